import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isStrengthening,
  isWeakening,
  offeredMethods,
  statusAfterPassword,
  statusAfterVerification,
  type OrgMfa,
  type UserMfa,
} from '../../src/core/mfa-policy.ts';

const org = (policy: OrgMfa['policy'], totpAllowed = true, emailAllowed = true): OrgMfa => ({
  policy,
  totpAllowed,
  emailAllowed,
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

test('with the method off and no recovery codes left, the user is treated as not enrolled', () => {
  const stranded: UserMfa = { sso: false, activeMethods: ['totp'], recoveryCodesRemaining: 0 };
  assert.equal(statusAfterPassword(org('required', false, true), stranded), 'enrollment_required');
  assert.equal(statusAfterPassword(org('enabled', false, true), stranded), 'authenticated');
});

test('policy strength orders disabled < enabled < required', () => {
  assert.equal(isStrengthening('disabled', 'enabled'), true);
  assert.equal(isStrengthening('enabled', 'required'), true);
  assert.equal(isStrengthening('required', 'required'), false);
  assert.equal(isWeakening('required', 'enabled'), true);
  assert.equal(isWeakening('enabled', 'disabled'), true);
  assert.equal(isWeakening('disabled', 'enabled'), false);
});
