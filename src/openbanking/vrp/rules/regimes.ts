import { ObError } from '../../errors.ts';

/**
 * The three regimes a VRP consent can be under, each with its own rules, never mixed in one consent:
 * - `sweeping`: the sweeping access rules (the CMA's definition): money moved between accounts of the same
 *   person or legal entity (`UK.OBIE.VRPType.Sweeping`).
 * - `commercial`: commercial VRP under the cVRP scheme (`UK.OBIE.VRPType.CVRP1`…`CVRP3`, the cVRP profile of
 *   v4.0 VRP, specs/ob-cvrp/v4.0): the transaction risk indicators and the PSU interaction type are mandatory.
 * - `other`: `UK.OBIE.VRPType.Other`, non-sweeping VRP agreed bilaterally outside the cVRP scheme.
 */
export type VrpRegime = 'sweeping' | 'commercial' | 'other';

export const SWEEPING_VRP_TYPE = 'UK.OBIE.VRPType.Sweeping';
export const OTHER_VRP_TYPE = 'UK.OBIE.VRPType.Other';
export const COMMERCIAL_VRP_TYPES = [
  'UK.OBIE.VRPType.CVRP1',
  'UK.OBIE.VRPType.CVRP2',
  'UK.OBIE.VRPType.CVRP3',
] as const;

/** The regime of one `VRPType` value; undefined for a value no VRP file defines. */
export function regimeOfType(vrpType: string): VrpRegime | undefined {
  if (vrpType === SWEEPING_VRP_TYPE) return 'sweeping';
  if (vrpType === OTHER_VRP_TYPE) return 'other';
  return (COMMERCIAL_VRP_TYPES as readonly string[]).includes(vrpType) ? 'commercial' : undefined;
}

/**
 * The one regime of a consent's `ControlParameters.VRPType`. A consent whose types belong to two regimes
 * (sweeping and commercial, say) is refused: sweeping payments and commercial ones follow different rules
 * (and different agreements), so one consent cannot carry both. `UK.OBIE.Field.Invalid` (U002).
 */
export function regimeOfConsent(
  vrpTypes: readonly string[],
  path = 'Data.ControlParameters.VRPType',
): VrpRegime {
  const regimes = new Set<VrpRegime>();
  for (const [index, vrpType] of vrpTypes.entries()) {
    const regime = regimeOfType(vrpType);
    if (!regime)
      throw ObError.single(400, 'UK.OBIE.Field.Invalid', `${vrpType} is not a VRP type`, `${path}.${index}`);
    regimes.add(regime);
  }
  const [regime, ...others] = [...regimes];
  if (!regime) throw ObError.single(400, 'UK.OBIE.Field.Missing', 'VRPType names no VRP type', path);
  if (others.length > 0)
    throw ObError.single(
      400,
      'UK.OBIE.Field.Invalid',
      `VRPType mixes ${[regime, ...others].join(' and ')} VRP types; sweeping, commercial (CVRP1-3) and ` +
        'other VRP each need a consent of their own',
      path,
    );
  return regime;
}
