/**
 * The associated data a TOTP secret is sealed with: the user's id. A ciphertext copied onto
 * another user's factor row fails to open, so a database write alone cannot hand one user's
 * authenticator to another account.
 */
export function totpSecretAad(userId: string): string {
  return `totp:${userId}`;
}
