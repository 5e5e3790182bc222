import type { VerificationMethod } from '../../core/factor-methods.ts';
import * as email from './email/strategy.ts';
import type { CodeAnswer, FactorStrategy } from './factor.ts';
import * as recoveryCode from './recovery-code/strategy.ts';
import * as totp from './totp/strategy.ts';

/**
 * Every verification method's strategy, by name. Adding a method is a folder beside this file
 * and a line here (the method's name goes in src/core/factor-methods.ts); TypeScript refuses a
 * name without its strategy. The strategies are modules, not objects, so that the import cycles
 * between a strategy's enrollment and the step-up it uses resolve in any load order.
 */
export const FACTORS = {
  totp,
  email,
  recovery_code: recoveryCode,
} satisfies { [M in VerificationMethod]: FactorStrategy<AnswerOf<M>> };

/**
 * What each method answers a verification with: a typed code today, an object for passkeys.
 * Written out rather than read off the strategies, whose enrollment takes a verification itself.
 */
type Answers = { totp: CodeAnswer; email: CodeAnswer; recovery_code: CodeAnswer };
export type AnswerOf<M extends VerificationMethod> = Answers[M];

export function strategyFor<M extends VerificationMethod>(method: M): FactorStrategy<AnswerOf<M>> {
  return FACTORS[method] as FactorStrategy<AnswerOf<M>>;
}
