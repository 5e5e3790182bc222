/**
 * The JSON API's contract: the schemas of the request bodies and answers the routes validate and
 * serialize with, and their TypeScript types. The console imports these types (type-only, so no
 * server code reaches its bundle): a shape changed here changes on both sides at once.
 *
 * The console's typecheck reads this file and what it imports, so it imports only TypeBox and
 * modules free of Node APIs.
 */
import { Type, type Static } from 'typebox';
import { APP_REDIRECT_URIS_MAX, APP_URI_MAX_LENGTH } from '../core/limits.ts';
import {
  Code,
  Email,
  ErrorSchema,
  MethodFlagsSchema,
  MfaMethodSchema,
  Name,
  OrgSchema,
  Password,
  Role,
  SessionSchema,
  Slug,
  UserSchema,
  Uuid,
  VerificationMethodSchema,
  VerificationSchema,
  WithVerificationBody,
} from './schemas.ts';

export type { AuditEventType } from '../core/audit-events.ts';

export type ApiError = Static<typeof ErrorSchema>;
export type SessionState = Static<typeof SessionSchema>;
export type SessionStatus = SessionState['status'];
/** A step-up's proof, sent as `verification` with a sensitive action. */
export type Verification = Static<typeof VerificationSchema>;
export type VerificationMethod = Verification['method'];
export type WithVerification = Static<typeof WithVerificationBody>;

// Sign-in

export const LoginBodySchema = Type.Object(
  { org: Slug, email: Email, password: Password },
  { additionalProperties: false },
);
export type LoginBody = Static<typeof LoginBodySchema>;

export const LoginAnswerSchema = Type.Object({
  ...SessionSchema.properties,
  methods: Type.Array(VerificationMethodSchema),
});
export type LoginAnswer = Static<typeof LoginAnswerSchema>;

/** An emailed code is on its way (enrollment, sign-in challenge). */
export const CodeSentSchema = Type.Object({ expires_at: Type.String() });
export type CodeSent = Static<typeof CodeSentSchema>;

export const SsoAvailabilitySchema = Type.Object({
  enabled: Type.Boolean(),
  start_url: Type.String(),
});
export type SsoAvailability = Static<typeof SsoAvailabilitySchema>;

export const ForgotPasswordBodySchema = Type.Object(
  { org: Slug, email: Email },
  { additionalProperties: false },
);
export type ForgotPasswordBody = Static<typeof ForgotPasswordBodySchema>;

export const ResetPasswordBodySchema = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 200 }), new_password: Password },
  { additionalProperties: false },
);
export type ResetPasswordBody = Static<typeof ResetPasswordBodySchema>;

// First run

export const SetupStatusSchema = Type.Object({ open: Type.Boolean() });
export type SetupStatus = Static<typeof SetupStatusSchema>;

export const SetupBodySchema = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 200 }),
    org: Type.Object({ slug: Slug, name: Name }, { additionalProperties: false }),
    admin: Type.Object(
      { email: Email, name: Name, password: Password },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type SetupBody = Static<typeof SetupBodySchema>;

export const SetupDoneSchema = Type.Object({
  org: Type.Object({ slug: Type.String(), name: Type.String() }),
});
export type SetupDone = Static<typeof SetupDoneSchema>;

// The signed-in user

export const MfaPolicySchema = Type.Union([
  Type.Literal('disabled'),
  Type.Literal('enabled'),
  Type.Literal('required'),
]);
export type MfaPolicy = Static<typeof MfaPolicySchema>;

export const MeSchema = Type.Object({
  user: Type.Object({ ...UserSchema.properties, org: OrgSchema }),
  session: SessionSchema,
  /** How the user authenticated in this session: the facts an ID token states (RFC 8176 amr). */
  authentication: Type.Object({
    auth_time: Type.String(),
    acr: Type.String(),
    amr: Type.Array(Type.String()),
  }),
  mfa: Type.Object({
    policy: MfaPolicySchema,
    allowed_methods: Type.Array(MfaMethodSchema),
    methods: Type.Array(
      Type.Object({
        type: MfaMethodSchema,
        created_at: Type.String(),
        last_used_at: Type.Union([Type.String(), Type.Null()]),
      }),
    ),
    recovery_codes_remaining: Type.Integer(),
  }),
});
export type Me = Static<typeof MeSchema>;
/** A method one enrolls in (recovery codes come with the first one). */
export type MfaMethod = Static<typeof MfaMethodSchema>;

export const ChangePasswordBodySchema = Type.Object(
  {
    current_password: Password,
    new_password: Password,
    verification: Type.Optional(VerificationSchema),
  },
  { additionalProperties: false },
);
export type ChangePasswordBody = Static<typeof ChangePasswordBodySchema>;

export const TotpSetupSchema = Type.Object({
  secret: Type.String(),
  otpauth_uri: Type.String(),
  qr_svg: Type.String(),
});
export type TotpSetup = Static<typeof TotpSetupSchema>;

export const ConfirmSetupBodySchema = Type.Object({ code: Code }, { additionalProperties: false });
export type ConfirmSetupBody = Static<typeof ConfirmSetupBodySchema>;

export const IssuedRecoveryCodesSchema = Type.Object({ recovery_codes: Type.Array(Type.String()) });
export type IssuedRecoveryCodes = Static<typeof IssuedRecoveryCodesSchema>;

// The org's MFA settings

/** One yes or no per method. */
export type AllowedMethods = Static<typeof MethodFlagsSchema>;

export const OrgMfaSchema = Type.Object({
  policy: MfaPolicySchema,
  methods: MethodFlagsSchema,
  users_total: Type.Integer(),
  users_enrolled: Type.Integer(),
});
export type OrgMfa = Static<typeof OrgMfaSchema>;

export const StrengthenPolicyBodySchema = Type.Object(
  {
    policy: MfaPolicySchema,
    sessions: Type.Union([Type.Literal('invalidate'), Type.Literal('keep')]),
  },
  { additionalProperties: false },
);
export type StrengthenPolicyBody = Static<typeof StrengthenPolicyBodySchema>;

export const PolicyStrengthenedSchema = Type.Object({
  policy: MfaPolicySchema,
  session: Type.Object({ status: Type.String() }),
});
export type PolicyStrengthened = Static<typeof PolicyStrengthenedSchema>;

export const WeakenPolicyBodySchema = Type.Object(
  { policy: Type.Union([Type.Literal('disabled'), Type.Literal('enabled')]) },
  { additionalProperties: false },
);
export type WeakenPolicyBody = Static<typeof WeakenPolicyBodySchema>;

export const WeakeningRequestedSchema = Type.Object({
  request_id: Type.String(),
  expires_at: Type.String(),
});
export type WeakeningRequested = Static<typeof WeakeningRequestedSchema>;

export const ConfirmWeakeningBodySchema = Type.Object(
  { request_id: Uuid, code: Code },
  { additionalProperties: false },
);
export type ConfirmWeakeningBody = Static<typeof ConfirmWeakeningBodySchema>;

export const PolicyWeakenedSchema = Type.Object({ policy: MfaPolicySchema });
export type PolicyWeakened = Static<typeof PolicyWeakenedSchema>;

export const AllowedMethodsBodySchema = Type.Object(
  {
    ...MethodFlagsSchema.properties,
    verification: Type.Optional(VerificationSchema),
    confirm_stranded_users: Type.Optional(Type.Integer({ minimum: 0, maximum: 1e9 })),
  },
  { additionalProperties: false },
);
export type AllowedMethodsBody = Static<typeof AllowedMethodsBodySchema>;

export const AllowedMethodsChangedSchema = Type.Object({ methods: MethodFlagsSchema });
export type AllowedMethodsChanged = Static<typeof AllowedMethodsChangedSchema>;

// The org's users

export const MfaStatusSchema = Type.Union([
  Type.Literal('enrolled'),
  Type.Literal('not_enrolled'),
  Type.Literal('sso'),
]);
export type MfaStatus = Static<typeof MfaStatusSchema>;

export const OrgUserSchema = Type.Object({ ...UserSchema.properties, mfa: MfaStatusSchema });
export type OrgUser = Static<typeof OrgUserSchema>;

export const UsersPageSchema = Type.Object({
  users: Type.Array(OrgUserSchema),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});
export type UsersPage = Static<typeof UsersPageSchema>;

export const CreateUserBodySchema = Type.Object(
  {
    email: Email,
    name: Name,
    role: Role,
    password: Type.Optional(Password),
    sso: Type.Optional(Type.Boolean()),
    verification: Type.Optional(VerificationSchema),
  },
  { additionalProperties: false },
);
export type CreateUserBody = Static<typeof CreateUserBodySchema>;

export const UserCreatedSchema = Type.Object({ user: UserSchema });
export type UserCreated = Static<typeof UserCreatedSchema>;

// The org's single sign-on

export const SsoSettingsSchema = Type.Object({
  issuer: Type.String(),
  client_id: Type.String(),
  allowed_domains: Type.Array(Type.String()),
  create_users: Type.Boolean(),
  redirect_uri: Type.String(),
  start_url: Type.String(),
});
export type SsoSettings = Static<typeof SsoSettingsSchema>;

export const SsoSettingsBodySchema = Type.Object(
  {
    issuer: Type.String({ minLength: 1, maxLength: 500 }),
    client_id: Type.String({ minLength: 1, maxLength: 500 }),
    client_secret: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
    allowed_domains: Type.Array(Type.String({ maxLength: 253 }), { maxItems: 50 }),
    create_users: Type.Boolean(),
    verification: Type.Optional(VerificationSchema),
  },
  { additionalProperties: false },
);
export type SsoSettingsBody = Static<typeof SsoSettingsBodySchema>;

export const SsoTestedSchema = Type.Object({ issuer: Type.String() });
export type SsoTested = Static<typeof SsoTestedSchema>;

// The audit log

const Person = Type.Union([
  Type.Object({ id: Type.String(), email: Type.Union([Type.String(), Type.Null()]) }),
  Type.Null(),
]);

export const AuditPageSchema = Type.Object({
  events: Type.Array(
    Type.Object({
      id: Type.String(),
      /** An AuditEventType when written; kept as text, as the log outlives any one version. */
      type: Type.String(),
      actor: Person,
      target: Person,
      ip: Type.Union([Type.String(), Type.Null()]),
      user_agent: Type.Union([Type.String(), Type.Null()]),
      details: Type.Record(Type.String(), Type.Unknown()),
      created_at: Type.String(),
    }),
  ),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});
export type AuditPage = Static<typeof AuditPageSchema>;
export type AuditEvent = AuditPage['events'][number];

// Apps: the org's applications that sign their users in through the org's issuer

const AppUri = Type.String({ minLength: 1, maxLength: APP_URI_MAX_LENGTH });
const AppUris = Type.Array(AppUri, { maxItems: APP_REDIRECT_URIS_MAX });

export const AppSchema = Type.Object({
  client_id: Type.String(),
  name: Type.String(),
  redirect_uris: Type.Array(Type.String()),
  post_logout_redirect_uris: Type.Array(Type.String()),
  backchannel_logout_uri: Type.Union([Type.String(), Type.Null()]),
  public: Type.Boolean(),
  created_at: Type.String(),
  updated_at: Type.String(),
});
export type App = Static<typeof AppSchema>;

export const AppListSchema = Type.Object({ apps: Type.Array(AppSchema) });
export type AppList = Static<typeof AppListSchema>;

const AppSettings = {
  name: Name,
  /** At least one (an empty list answers invalid_redirect_uri). */
  redirect_uris: AppUris,
  post_logout_redirect_uris: Type.Optional(AppUris),
  backchannel_logout_uri: Type.Optional(Type.Union([AppUri, Type.Null()])),
  verification: Type.Optional(VerificationSchema),
};

export const AppRegistrationBodySchema = Type.Object(
  { ...AppSettings, public: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export type AppRegistrationBody = Static<typeof AppRegistrationBodySchema>;

/** An app's settings replaced whole; whether it is public is fixed at registration. */
export const AppUpdateBodySchema = Type.Object(AppSettings, { additionalProperties: false });
export type AppUpdateBody = Static<typeof AppUpdateBodySchema>;

/** The client secret is shown here once, at registration or rotation; null for a public app. */
export const AppCredentialsSchema = Type.Object({
  client_id: Type.String(),
  client_secret: Type.Union([Type.String(), Type.Null()]),
});
export type AppCredentials = Static<typeof AppCredentialsSchema>;
