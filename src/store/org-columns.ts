import type { Org } from './schema.ts';

/** The org's columns under prefixed aliases, for queries that join a user or session to its org. */
export const orgColumns = [
  'orgs.id as org__id',
  'orgs.slug as org__slug',
  'orgs.name as org__name',
  'orgs.mfa_policy as org__mfa_policy',
  'orgs.mfa_methods as org__mfa_methods',
  'orgs.session_epoch as org__session_epoch',
  'orgs.created_at as org__created_at',
] as const;

type OrgAliased = { [K in keyof Org as `org__${K & string}`]: Org[K] };

export function splitOrg<R extends OrgAliased>(
  row: R,
): { org: Org; rest: Omit<R, keyof OrgAliased> } {
  const {
    org__id,
    org__slug,
    org__name,
    org__mfa_policy,
    org__mfa_methods,
    org__session_epoch,
    org__created_at,
    ...rest
  } = row;
  return {
    org: {
      id: org__id,
      slug: org__slug,
      name: org__name,
      mfa_policy: org__mfa_policy,
      mfa_methods: org__mfa_methods,
      session_epoch: org__session_epoch,
      created_at: org__created_at,
    },
    rest,
  };
}
