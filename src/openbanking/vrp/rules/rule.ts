import { ObError, type ObErrorCode } from '../../errors.ts';

/** A rule's refusal: the OB error code (rendered as its v4.0 U-code), the JSON path, and why. */
export interface RuleFailure {
  code: Extract<
    ObErrorCode,
    'UK.OBIE.Field.Missing' | 'UK.OBIE.Field.Invalid' | 'UK.OBIE.Rules.FailsControlParameters'
  >;
  path: string;
  message: string;
}

/** One named rule over a request (or a payment with what the bank knows of its parties). */
export interface VrpRule<Subject> {
  name: string;
  check: (subject: Subject) => RuleFailure | undefined;
}

/** Runs every rule; throws one 400 naming every failure (each its own `Errors[]` entry), or returns. */
export function enforce<Subject>(rules: readonly VrpRule<Subject>[], subject: Subject): void {
  const failures = rules.flatMap((rule) => rule.check(subject) ?? []);
  const [first, ...rest] = failures.map((failure) => ({
    ErrorCode: failure.code,
    Message: failure.message,
    Path: failure.path,
  }));
  if (first) throw new ObError(400, first.Message, [first, ...rest]);
}
