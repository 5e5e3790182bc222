import * as OTPAuth from 'otpauth';

/**
 * An authenticator app on the real clock. A code is accepted once per 30 s step, and the server
 * accepts the next step early; past that, this waits for the clock.
 */
export class Authenticator {
  private lastStep = -1;
  private readonly totp: OTPAuth.TOTP;

  constructor(secretBase32: string) {
    this.totp = new OTPAuth.TOTP({
      secret: OTPAuth.Secret.fromBase32(secretBase32.replace(/\s/g, '')),
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
    });
  }

  async nextCode(): Promise<string> {
    for (;;) {
      const current = Math.floor(Date.now() / 30_000);
      const step = Math.max(current, this.lastStep + 1);
      if (step <= current + 1) {
        this.lastStep = step;
        return this.totp.generate({ timestamp: step * 30_000 + 1000 });
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
