import { Type, type TBoolean } from 'typebox';
import { MFA_METHODS, VERIFICATION_METHODS, type MfaMethod } from '../core/factor-methods.ts';

export const ErrorSchema = Type.Object({
  error: Type.String(),
  message: Type.String(),
  retry_after: Type.Optional(Type.Integer()),
  methods: Type.Optional(Type.Array(Type.String())),
  /** For SSO users asked to step up: where to re-authenticate at the identity provider. */
  sso_url: Type.Optional(Type.String()),
  /** How many users a change of the allowed methods leaves with nothing to verify with. */
  stranded_users: Type.Optional(Type.Integer()),
  /** With verification_required: the sensitive action that asks for the step-up. */
  action: Type.Optional(Type.String()),
});

/** Error answers every route may give, on top of its own. */
export const commonErrors = {
  400: ErrorSchema,
  403: ErrorSchema,
  413: ErrorSchema,
  415: ErrorSchema,
  429: ErrorSchema,
};

export const authErrors = { ...commonErrors, 401: ErrorSchema };

/** Short enough to refuse absurd input early; the services check the real rules. */
export const Slug = Type.String({ minLength: 1, maxLength: 100 });
export const Email = Type.String({ minLength: 1, maxLength: 320 });
export const Name = Type.String({ minLength: 1, maxLength: 400 });
export const Password = Type.String({ minLength: 1, maxLength: 1024 });
export const Role = Type.Union([Type.Literal('admin'), Type.Literal('member')]);

export const UserSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  role: Role,
  sso: Type.Boolean(),
});

export const OrgSchema = Type.Object({ slug: Type.String(), name: Type.String() });

export const SessionSchema = Type.Object({
  status: Type.Union([
    Type.Literal('mfa_required'),
    Type.Literal('enrollment_required'),
    Type.Literal('authenticated'),
  ]),
  aal: Type.Integer(),
});

/** One of a list of names, as `anyOf` of constants, typed as the union of the names. */
function OneOf<T extends string>(names: readonly T[]) {
  return Type.Unsafe<T>(Type.Union(names.map((name) => Type.Literal(name))));
}

/** A method a user can enroll: 'totp', 'email' (src/core/factor-methods.ts). */
export const MfaMethodSchema = OneOf(MFA_METHODS);

export const VerificationMethodSchema = OneOf(VERIFICATION_METHODS);

/** One boolean per method, `{totp, email}`: the org's allowed methods on the wire. */
export const MethodFlagsSchema = Type.Object(
  Object.fromEntries(MFA_METHODS.map((method) => [method, Type.Boolean()])) as Record<
    MfaMethod,
    TBoolean
  >,
);

/** In a sensitive action's `verification`, SSO users answer with 'sso' (and an empty code). */
const StepUpMethodSchema = OneOf([...VERIFICATION_METHODS, 'sso']);

/** Any string up to 64 characters: what is not code-shaped is simply a wrong code. */
export const Code = Type.String({ maxLength: 64 });

export const VerificationSchema = Type.Object(
  { method: StepUpMethodSchema, code: Code },
  { additionalProperties: false },
);

/** The body of an action whose only field is its step-up: `{verification?}`. */
export const WithVerificationBody = Type.Object(
  { verification: Type.Optional(VerificationSchema) },
  { additionalProperties: false },
);

export const ALL_SESSION_STATUSES = [
  'mfa_required',
  'enrollment_required',
  'authenticated',
] as const;

/**
 * For routes whose body is all optional fields: a request with no body at all is read as `{}`,
 * so that the body schema still applies to what is sent.
 */
export async function emptyBodyAsObject(request: { body: unknown }) {
  if (request.body === undefined) request.body = {};
}

/** An id the database will accept; anything else is refused before any query. */
export const Uuid = Type.String({
  maxLength: 36,
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
});
