import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  enrollmentSuperseded,
  hasNoUsableMethod,
  isStrengthening,
  isWeakening,
  offeredMethods,
  statusAfterPassword,
  statusAfterVerification,
  type OrgMfa,
  type UserMfa,
} from '../../src/core/mfa-policy.ts';
import { flaggedMethods } from '../../src/core/factor-methods.ts';

const org = (policy: OrgMfa['policy'], totp = true, email = true): OrgMfa => ({
  policy,
  methods: flaggedMethods({ totp, email }),
});
const nobody: UserMfa = { sso: false, activeMethods: [], recoveryCodesRemaining: 0 };
const totpUser: UserMfa = { sso: false, activeMethods: ['totp'], recoveryCodesRemaining: 10 };
const ssoUser: UserMfa = { sso: true, activeMethods: [], recoveryCodesRemaining: 0 };

test('disabled: nobody is asked for a second factor', () => {
  assert.equal(statusAfterPassword(org('disabled'), totpUser), 'authenticated');
  assert.deepEqual(offeredMethods(org('disabled'), totpUser), []);
});

test('enabled: opt-in, so only users with a factor are asked', () => {
  assert.equal(statusAfterPassword(org('enabled'), nobody), 'authenticated');
  assert.equal(statusAfterPassword(org('enabled'), totpUser), 'mfa_required');
});

test('required: users without a factor must enroll right after the password', () => {
  assert.equal(statusAfterPassword(org('required'), nobody), 'enrollment_required');
  assert.equal(statusAfterPassword(org('required'), totpUser), 'mfa_required');
});

test('SSO users are never asked, even under required', () => {
  assert.equal(statusAfterPassword(org('required'), ssoUser), 'authenticated');
  assert.deepEqual(offeredMethods(org('required'), ssoUser), []);
});

test('offered methods are the allowed active ones, then recovery codes if any are left', () => {
  assert.deepEqual(offeredMethods(org('required'), totpUser), ['totp', 'recovery_code']);
  const both: UserMfa = { sso: false, activeMethods: ['email', 'totp'], recoveryCodesRemaining: 0 };
  // A fixed order, authenticator app first, whatever order the factors came in.
  assert.deepEqual(offeredMethods(org('enabled'), both), ['totp', 'email']);
});

test('a method the org turned off leaves only "recovery_code", then enrollment under required', () => {
  const totpOff = org('required', false, true);
  assert.deepEqual(offeredMethods(totpOff, totpUser), ['recovery_code']);
  assert.equal(statusAfterPassword(totpOff, totpUser), 'mfa_required');
  assert.equal(statusAfterVerification(totpOff, totpUser), 'enrollment_required');
  assert.equal(statusAfterVerification(org('required'), totpUser), 'authenticated');
});

test('with the method off and no recovery codes left, sign-in is refused, never downgraded', () => {
  const stranded: UserMfa = { sso: false, activeMethods: ['totp'], recoveryCodesRemaining: 0 };
  for (const policy of ['enabled', 'required'] as const) {
    assert.equal(hasNoUsableMethod(org(policy, false, true), stranded), true, policy);
    assert.equal(statusAfterPassword(org(policy, false, true), stranded), null, policy);
  }
  // With MFA off for the org nobody is asked, so nobody is stranded either.
  assert.equal(statusAfterPassword(org('disabled', false, true), stranded), 'authenticated');
  assert.equal(hasNoUsableMethod(org('required', true, true), stranded), false);
  assert.equal(
    hasNoUsableMethod(org('required', false, true), { ...stranded, recoveryCodesRemaining: 1 }),
    false,
  );
  assert.equal(hasNoUsableMethod(org('required', false, true), nobody), false);
  assert.equal(hasNoUsableMethod(org('required', false, true), ssoUser), false);
});

test('policy strength orders disabled < enabled < required', () => {
  assert.equal(isStrengthening('disabled', 'enabled'), true);
  assert.equal(isStrengthening('enabled', 'required'), true);
  assert.equal(isStrengthening('required', 'required'), false);
  assert.equal(isWeakening('required', 'enabled'), true);
  assert.equal(isWeakening('enabled', 'disabled'), true);
  assert.equal(isWeakening('disabled', 'enabled'), false);
});

test('a session sent to enrollment must verify instead once its user has a way to verify', () => {
  // Nothing enrolled yet: the enrollment session may enroll.
  assert.equal(enrollmentSuperseded(org('required'), nobody, 1), false);
  // Another session enrolled meanwhile: a password-only session must not replace that factor.
  assert.equal(enrollmentSuperseded(org('required'), totpUser, 1), true);
  assert.equal(enrollmentSuperseded(org('required'), totpUser, 2), true);
  // The org turned TOTP off: only recovery codes are left, which a password-only session has not
  // proved; a session that proved one (AAL2) may enroll an allowed method.
  const offTotp = org('required', false, true);
  assert.equal(enrollmentSuperseded(offTotp, totpUser, 1), true);
  assert.equal(enrollmentSuperseded(offTotp, totpUser, 2), false);
  // Nothing left to verify with: a password-only session still holds no right to replace it.
  const noCodes: UserMfa = { ...totpUser, recoveryCodesRemaining: 0 };
  assert.equal(enrollmentSuperseded(offTotp, noCodes, 1), true);
});
