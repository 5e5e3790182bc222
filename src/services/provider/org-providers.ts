import type Provider from 'oidc-provider';
import { PROVIDER_CACHE_ORGS } from '../../core/limits.ts';
import type { Org } from '../../store/schema.ts';
import type { ServiceDeps } from '../deps.ts';
import { createOrgProvider } from './org-provider.ts';
import { loadSigningKeys } from './signing-keys.ts';

export type OrgProviders = {
  /** The org's provider, built on the first request for the org and kept for the next ones. */
  providerOf(org: Org): Promise<Provider>;
};

/**
 * One instance's org providers, least recently used dropped first. Nothing in them is state that
 * another instance lacks: sessions, codes, tokens, apps and keys are all in the database.
 */
export function createOrgProviders(deps: ServiceDeps, consoleCookie: string): OrgProviders {
  const built = new Map<string, Promise<Provider>>();
  return {
    providerOf(org) {
      const key = `${org.id}/${org.slug}`;
      let provider = built.get(key);
      if (provider) {
        built.delete(key);
      } else {
        const building = loadSigningKeys(deps, org.id).then((keys) =>
          createOrgProvider(deps, org, keys, consoleCookie),
        );
        // A failed build (the database down) is not kept: the next request tries again.
        building.catch(() => {
          if (built.get(key) === building) built.delete(key);
        });
        provider = building;
      }
      built.set(key, provider);
      if (built.size > PROVIDER_CACHE_ORGS) built.delete(built.keys().next().value as string);
      return provider;
    },
  };
}
