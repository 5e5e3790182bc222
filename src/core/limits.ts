/** Every limit of the product, each with the reason it has its value. */

/** NIST SP 800-63B-4 §3.1.1.2: at least 8 characters when the password is the only factor. */
export const PASSWORD_MIN_CHARACTERS = 8;
/** NIST asks for at least 64; 256 leaves room for passphrases while bounding the hash input. */
export const PASSWORD_MAX_CHARACTERS = 256;

/** OWASP's argon2id minimum: 19 MiB, 2 passes, 1 lane. Raising these rehashes on next sign-in. */
export const ARGON2_MEMORY_KIB = 19456;
export const ARGON2_ITERATIONS = 2;
export const ARGON2_PARALLELISM = 1;

/** 256 bits: a session token cannot be guessed, whatever the number of live sessions. */
export const SESSION_TOKEN_BYTES = 32;
/** NIST SP 800-63B-4 for AAL2: reauthenticate after 1 hour idle and 24 hours in all. */
export const SESSION_IDLE_SECONDS = 60 * 60;
export const SESSION_ABSOLUTE_SECONDS = 24 * 60 * 60;
/** A session that has passed the password but not the second factor lives only this long. */
export const PRE_MFA_SESSION_SECONDS = 10 * 60;
/** Writing last_seen_at on every request would make every read a write; a minute is precise enough. */
export const SESSION_TOUCH_INTERVAL_SECONDS = 60;

/** Password guessing: 10 consecutive failures for an account lock it for 15 minutes. */
export const PASSWORD_MAX_FAILURES = 10;
export const PASSWORD_LOCK_SECONDS = 15 * 60;
/** Per-IP ceiling on the unauthenticated auth routes, on top of the per-account lock. */
export const AUTH_REQUESTS_PER_IP_PER_MINUTE = 60;

/**
 * PostgreSQL connections per instance. Each request holds one for a few short queries, and the
 * argon2id hash runs outside any transaction, so 10 keep two cores busy; raise it with the cores.
 */
export const DEFAULT_POOL_SIZE = 10;

/** Bodies are small JSON documents; anything bigger is a mistake or an attack. */
export const REQUEST_BODY_MAX_BYTES = 16 * 1024;
/**
 * A body over the limit is still read (and thrown away) up to this many bytes before the 413: a
 * server that closes while the client is still sending resets the connection, and the client never
 * sees why. Past this, the connection is closed unread; reading costs bandwidth, never memory.
 */
export const REQUEST_BODY_DRAIN_MAX_BYTES = 8 * 1024 * 1024;
/** ...and for at most this long, so that a body trickled in cannot hold the connection. */
export const REQUEST_BODY_DRAIN_MAX_SECONDS = 10;

/**
 * A request, headers and body, arrives whole within this many seconds, or its connection is
 * answered 408 and closed: a client that trickles a small body byte by byte holds a connection no
 * longer than this (Node's own limit of 5 minutes is off in Fastify).
 */
export const REQUEST_MAX_SECONDS = 30;
/** How often the server looks for requests past their time; the 408 comes at most this late. */
export const REQUEST_TIMEOUT_CHECK_SECONDS = 2;

export const EMAIL_MAX_CHARACTERS = 254;
export const NAME_MAX_CHARACTERS = 200;
export const SLUG_MAX_CHARACTERS = 40;
export const SETUP_TOKEN_BYTES = 32;

/** Second-factor guessing: 5 consecutive failures of a user lock verification for 15 minutes. */
export const MFA_MAX_FAILURES = 5;
export const MFA_LOCK_SECONDS = 15 * 60;
/** A TOTP setup not confirmed within this time must be started again. */
export const PENDING_FACTOR_SECONDS = 15 * 60;

/** A password reset link works once, for 30 minutes. */
export const PASSWORD_RESET_SECONDS = 30 * 60;
/** At most one reset email a minute per account: the link is not a way to flood an inbox. */
export const PASSWORD_RESET_RESEND_SECONDS = 60;
export const PASSWORD_RESET_TOKEN_BYTES = 32;

/** An SSO round trip (redirect to the identity provider and back) must finish within this time. */
export const SSO_STATE_SECONDS = 10 * 60;
/** A re-authentication at the identity provider serves one sensitive action within this time. */
export const SSO_REAUTH_SECONDS = 5 * 60;
/** Clock skew allowed between us and the identity provider when checking auth_time. */
export const SSO_CLOCK_SKEW_SECONDS = 30;
/**
 * How long one request to the identity provider (discovery, keys, token, userinfo) may take.
 * Anonymous sign-ins never wait this long (see SSO_START_WAIT_SECONDS).
 */
export const SSO_PROVIDER_TIMEOUT_SECONDS = 10;
/**
 * A provider's discovery document is reused this long, so that anonymous /start requests do not
 * make the server fetch it each time. Its signing keys, fetched only by a callback, are kept
 * within it by openid-client for 5 minutes (sooner again only for a key id it has not seen).
 */
export const SSO_DISCOVERY_CACHE_SECONDS = 10 * 60;
/**
 * After a provider could not be reached, sign-ins answer "unavailable" at once for this long
 * before the server tries again: a provider that hangs then costs anonymous callers nothing.
 */
export const SSO_DISCOVERY_RETRY_SECONDS = 30;
/**
 * The longest an anonymous /start waits for a discovery fetch in progress; the fetch goes on in
 * the background and fills the cache. Discovery of a healthy provider takes well under a second.
 */
export const SSO_START_WAIT_SECONDS = 3;
/** "Test connection" fetches the discovery document live, and gives up sooner than a sign-in. */
export const SSO_TEST_TIMEOUT_SECONDS = 5;

/** Expired rows are deleted by every instance this often. */
export const PRUNE_INTERVAL_SECONDS = 10 * 60;
/**
 * Expired codes and links are kept a day before deletion: the hourly send limits count them, and
 * the audit log may need to tell a late click from a forged link.
 */
export const EXPIRED_ROW_RETENTION_SECONDS = 24 * 60 * 60;

/**
 * A transaction that meets a deadlock (40P01) or a serialization failure (40001) runs again, at
 * most this many times: a step-up's transaction only conflicts with another of the same user, and
 * with the user's row locked first, two runs of the same conflict are already unlikely.
 */
export const TRANSACTION_RETRIES = 3;
/** Each retry waits a random time below this, doubled per retry (at most 10, 20 and 40 ms). */
export const TRANSACTION_RETRY_BASE_MS = 10;
/** A conflict that outlasted its retries answers 503 with this Retry-After: it is momentary. */
export const BUSY_RETRY_AFTER_SECONDS = 1;

/*
 * The OpenID Provider (one issuer per org). An app's tokens live no longer than a Portcullis
 * session may: a refresh token reaches at most the absolute session lifetime (24 h, the AAL2
 * re-authentication limit of NIST SP 800-63B), so that an app keeps no user signed in past what
 * the console itself would.
 */
/** An authorization code is redeemed by the app's back end at once; a minute covers slow links. */
export const PROVIDER_AUTHORIZATION_CODE_SECONDS = 60;
/** Access and ID tokens are short: revocation and session ends reach an app within this. */
export const PROVIDER_ACCESS_TOKEN_SECONDS = 10 * 60;
export const PROVIDER_ID_TOKEN_SECONDS = 10 * 60;
export const PROVIDER_REFRESH_TOKEN_SECONDS = 24 * 60 * 60;
/** A sign-in inside an app's request, enrollment of a first factor included. */
export const PROVIDER_INTERACTION_SECONDS = 30 * 60;
/** The provider's own session and grants, never longer than a Portcullis session. */
export const PROVIDER_SESSION_SECONDS = 24 * 60 * 60;
/**
 * A retired signing key stays in the JWKS this long: longer than any token it signed lives, and
 * than an app caches the JWKS.
 */
export const PROVIDER_RETIRED_KEY_SECONDS = 24 * 60 * 60;
/**
 * Org providers kept built per instance (each holds its keys and compiled configuration, a few
 * megabytes at most); an org beyond this is built again on its next request, from the database.
 */
export const PROVIDER_CACHE_ORGS = 200;
/** An app's redirect URIs (sign-in and sign-out each): enough for its environments, not a list. */
export const APP_REDIRECT_URIS_MAX = 10;
export const APP_URI_MAX_LENGTH = 2000;
