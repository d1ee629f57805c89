/** The deployment engine's refusals, as the domain exceptions the HTTP filter maps (400/404/409). */
import { DomainException, ErrorCode, type Problem } from '@stratum/service-kit';

export { conflict, type Problem } from '@stratum/service-kit';

export function invalidPlan(problems: Problem[]): DomainException {
  return new DomainException(
    ErrorCode.ValidationFailed,
    problems.map((p) => `${p.field}: ${p.message}`).join('; '),
    'Correct the template so the named units and objects are valid; no revision was recorded.',
    { problems },
  );
}

export function stackNotFound(field: string, id: string): DomainException {
  return new DomainException(
    ErrorCode.NotFound,
    `${field}: no stack ${id} for this tenant`,
    'Stacks are created by submitting their first template; list the tenant’s stacks for their names.',
    { problems: [{ field, message: `no stack ${id}` }] },
  );
}

export function notFound(what: string, field: string, id: string, hint: string): DomainException {
  return new DomainException(ErrorCode.NotFound, `${field}: no ${what} ${id}`, hint, {
    problems: [{ field, message: `no ${what} ${id}` }],
  });
}
