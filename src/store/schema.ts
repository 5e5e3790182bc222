import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

import type { MfaMethod, MfaPolicy, SessionStatus } from '../core/mfa-policy.ts';

export type { MfaPolicy, SessionStatus };
export type Role = 'admin' | 'member';

type Timestamp = ColumnType<Date, Date, Date>;

export interface OrgsTable {
  id: Generated<string>;
  slug: string;
  name: string;
  mfa_policy: Generated<MfaPolicy>;
  /** The methods the org allows: a set, kept in offering order by the code that writes it. */
  mfa_methods: ColumnType<MfaMethod[], MfaMethod[] | undefined, MfaMethod[]>;
  /** Bumped to end every session of the org in one row update. */
  session_epoch: Generated<number>;
  created_at: Timestamp;
}

export interface UsersTable {
  id: Generated<string>;
  org_id: string;
  email: string;
  /** Lowercase form of email: the unique, case-insensitive key within an org. */
  email_key: string;
  name: string;
  role: Role;
  /** PHC string (algorithm and parameters included); null for SSO users. */
  password_hash: string | null;
  sso: Generated<boolean>;
  /** The identity provider's `sub` for an SSO user, bound at the first SSO sign-in. */
  sso_subject: Generated<string | null>;
  /** Has an active factor; derived, refreshed with every factor write (store/factors.ts). */
  mfa_enrolled: Generated<boolean>;
  /** Bumped to end every session of the user in one row update. */
  session_epoch: Generated<number>;
  created_at: Timestamp;
}

export interface SessionsTable {
  /** SHA-256 of the cookie token; the token itself is never stored. */
  token_hash: string;
  user_id: string;
  org_id: string;
  status: SessionStatus;
  aal: number;
  org_epoch: number;
  user_epoch: number;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  ip: string | null;
  user_agent: string | null;
  /** When and how the user authenticated in this session (core/authentication-facts.ts). */
  auth_time: Timestamp;
  acr: string;
  /** RFC 8176 values, in a JSON array. */
  amr: ColumnType<string[], string, string>;
  /** A fresh re-authentication at the identity provider, spent by one sensitive action. */
  sso_reauthenticated_at: Generated<Date | null>;
}

/** Consecutive-failure counters (password guesses, later MFA codes), shared by every instance. */
export interface AttemptCountersTable {
  key: string;
  failures: number;
  locked_until: Timestamp | null;
  updated_at: Timestamp;
}

export type FactorType = MfaMethod;

export interface FactorsTable {
  id: Generated<string>;
  user_id: string;
  org_id: string;
  type: FactorType;
  state: 'pending' | 'active';
  /** The user's name for a factor of a method that allows several (which passkey); else null. */
  label: ColumnType<string | null, string | null | undefined, string | null>;
  /**
   * AES-256-GCM of the TOTP secret, bound to the user (the user's id is the associated data, so
   * the ciphertext opens on no other user's row); null for the other methods.
   */
  secret_ciphertext: string | null;
  /** The last TOTP step accepted: a code of this step or an older one is a replay. */
  last_used_step: ColumnType<string | null, string | null, string | null>;
  created_at: Timestamp;
  activated_at: Timestamp | null;
  last_used_at: Timestamp | null;
}

export interface RecoveryCodesTable {
  id: Generated<string>;
  user_id: string;
  /** HMAC-SHA-256 of the normalized code under a server key. */
  code_hmac: string;
  created_at: Timestamp;
  used_at: Timestamp | null;
}

export type ChallengePurpose = 'login' | 'step_up' | 'enroll_email' | 'org_policy';

export interface EmailChallengesTable {
  id: Generated<string>;
  user_id: string;
  org_id: string;
  /** The session the code was sent for (login, step-up); null when bound to a request id only. */
  session_token_hash: string | null;
  purpose: ChallengePurpose;
  /** HMAC-SHA-256 of the code under a server key. */
  code_hmac: string;
  payload: ColumnType<Record<string, unknown>, string, string>;
  attempts: Generated<number>;
  created_at: Timestamp;
  expires_at: Timestamp;
  consumed_at: Timestamp | null;
  voided_at: Timestamp | null;
}

export interface PasswordResetTokensTable {
  /** SHA-256 of the token in the emailed link. */
  token_hash: string;
  user_id: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

export interface SsoConnectionsTable {
  org_id: string;
  issuer: string;
  client_id: string;
  /** AES-256-GCM, bound to the org. */
  client_secret_ciphertext: string;
  allowed_domains: ColumnType<string[], string, string>;
  /** Whether a first SSO sign-in creates the user (as a member). */
  create_users: boolean;
  updated_at: Timestamp;
}

export interface SsoStatesTable {
  /** SHA-256 of the OAuth `state`; the state itself rides in the redirect and a cookie. */
  state_hash: string;
  org_id: string;
  purpose: 'login' | 'step_up';
  session_token_hash: string | null;
  nonce: string;
  code_verifier_ciphertext: string;
  created_at: Timestamp;
  expires_at: Timestamp;
}

export interface SetupTokensTable {
  token_hash: string;
  created_at: Timestamp;
}

export interface AuditEventsTable {
  id: Generated<string>;
  org_id: string | null;
  actor_user_id: string | null;
  target_user_id: string | null;
  type: string;
  ip: string | null;
  user_agent: string | null;
  details: ColumnType<Record<string, unknown>, string, string>;
  created_at: Timestamp;
}

/** One object of the OpenID Provider's state (a session, grant, code, token...), of one org. */
export interface OidcPayloadsTable {
  org_id: string;
  /** oidc-provider's model name: Session, Grant, AuthorizationCode, RefreshToken... */
  model: string;
  id: string;
  payload: ColumnType<Record<string, unknown>, string, string>;
  grant_id: string | null;
  user_code: string | null;
  uid: string | null;
  /** Null: kept until destroyed (oidc-provider gave no lifetime). */
  expires_at: Timestamp | null;
  consumed_at: Timestamp | null;
}

/** An application of an org that signs its users in through the org's issuer (a client). */
export interface OidcAppsTable {
  client_id: string;
  org_id: string;
  name: string;
  redirect_uris: ColumnType<string[], string, string>;
  post_logout_redirect_uris: ColumnType<string[], string, string>;
  backchannel_logout_uri: string | null;
  /** A public app (a browser or native app) has no secret and must use PKCE. */
  public: boolean;
  /** AES-256-GCM of the client secret, bound to the client id; null for a public app. */
  client_secret_ciphertext: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface OidcSigningKeysTable {
  org_id: string;
  kid: string;
  public_jwk: ColumnType<Record<string, unknown>, string, string>;
  /** AES-256-GCM of the private JWK, bound to the org and kid. */
  private_jwk_ciphertext: string;
  created_at: Timestamp;
  /** Set when a newer key signs: the key is still published until its tokens have expired. */
  retired_at: Timestamp | null;
}

export interface Database {
  orgs: OrgsTable;
  users: UsersTable;
  sessions: SessionsTable;
  attempt_counters: AttemptCountersTable;
  setup_tokens: SetupTokensTable;
  factors: FactorsTable;
  recovery_codes: RecoveryCodesTable;
  email_challenges: EmailChallengesTable;
  password_reset_tokens: PasswordResetTokensTable;
  sso_connections: SsoConnectionsTable;
  sso_states: SsoStatesTable;
  audit_events: AuditEventsTable;
  oidc_payloads: OidcPayloadsTable;
  oidc_apps: OidcAppsTable;
  oidc_signing_keys: OidcSigningKeysTable;
}

export type Org = Selectable<OrgsTable>;
export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type Session = Selectable<SessionsTable>;
export type AuditEvent = Selectable<AuditEventsTable>;
export type Factor = Selectable<FactorsTable>;
export type SsoConnection = Selectable<SsoConnectionsTable>;
export type OidcApp = Selectable<OidcAppsTable>;
