/**
 * What each `VRPType` of a VRP consent means, in the words the customer reads on the consent page and the
 * dashboard. Sweeping is the CMA's sweeping: money moved between the customer's own accounts. Commercial
 * VRP (the cVRP scheme, live in the UK since June 2026) pays a business; CVRP1 is the scheme's first
 * wave of eligible payees, and CVRP2 and CVRP3 are the scheme's later categories, named as the scheme names them.
 */
export interface VrpKind {
  /** Sweeping, commercial or other: which rules the consent is under. */
  regime: 'sweeping' | 'commercial' | 'other';
  /** The kind in plain words, for the "Kind of payments" line. */
  words: string;
}

export const VRP_KINDS: Record<string, VrpKind> = {
  'UK.OBIE.VRPType.Sweeping': {
    regime: 'sweeping',
    words: 'Sweeping: moving money between accounts in your own name',
  },
  'UK.OBIE.VRPType.CVRP1': {
    regime: 'commercial',
    words:
      'Commercial variable recurring payments (CVRP1): paying a business for bills and services — ' +
      'energy, water and telecoms, regulated financial services, e-money, government or charities',
  },
  'UK.OBIE.VRPType.CVRP2': {
    regime: 'commercial',
    words:
      'Commercial variable recurring payments (CVRP2): paying a business in the cVRP scheme’s second category',
  },
  'UK.OBIE.VRPType.CVRP3': {
    regime: 'commercial',
    words:
      'Commercial variable recurring payments (CVRP3): paying a business in the cVRP scheme’s third category',
  },
  'UK.OBIE.VRPType.Other': {
    regime: 'other',
    words: 'Variable recurring payments to someone else, agreed directly with your bank',
  },
};

/** The interaction types a consent allows, in words. */
export const VRP_INTERACTIONS: Record<string, string> = {
  InSession: 'while you are using the app or website',
  OffSession: 'without you being there',
};
