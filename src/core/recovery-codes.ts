import { encodeBase32NoPadding } from '@oslojs/encoding';
import type { RandomBytes } from './tokens.ts';

/** 10 single-use codes per set; each factor enabled, and each regeneration, gives a new set. */
export const RECOVERY_CODE_COUNT = 10;
/** 80 bits each (16 base32 characters): unguessable even with the lockout switched off. */
export const RECOVERY_CODE_BYTES = 10;

/** Fresh codes, shown once as xxxx-xxxx-xxxx-xxxx in lowercase base32. */
export function generateRecoveryCodes(randomBytes: RandomBytes): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const raw = encodeBase32NoPadding(randomBytes(RECOVERY_CODE_BYTES)).toLowerCase();
    return raw.match(/.{4}/g)!.join('-');
  });
}

/** Case, spaces and dashes do not matter; anything that is not 16 base32 characters is wrong. */
export function normalizeRecoveryCode(input: string): string | null {
  const code = input.replace(/[\s-]/g, '').toLowerCase();
  return /^[a-z2-7]{16}$/.test(code) ? code : null;
}
