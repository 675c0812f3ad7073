/**
 * Account-access permissions (OB Read/Write v3.1.11 `OBReadConsent1.Data.Permissions`) and how they are put
 * to the PSU: grouped into the data clusters of the Open Banking Customer Experience Guidelines, each with a
 * plain sentence.
 */
export const ACCOUNT_PERMISSIONS = [
  'ReadAccountsBasic',
  'ReadAccountsDetail',
  'ReadBalances',
  'ReadBeneficiariesBasic',
  'ReadBeneficiariesDetail',
  'ReadDirectDebits',
  'ReadOffers',
  'ReadPAN',
  'ReadParty',
  'ReadPartyPSU',
  'ReadProducts',
  'ReadScheduledPaymentsBasic',
  'ReadScheduledPaymentsDetail',
  'ReadStandingOrdersBasic',
  'ReadStandingOrdersDetail',
  'ReadStatementsBasic',
  'ReadStatementsDetail',
  'ReadTransactionsBasic',
  'ReadTransactionsCredits',
  'ReadTransactionsDebits',
  'ReadTransactionsDetail',
] as const;
export type AccountPermission = (typeof ACCOUNT_PERMISSIONS)[number];

export interface PermissionGroup {
  title: string;
  /** One sentence per thing the TPP will see, in the order shown. */
  items: string[];
}

const SENTENCES: Partial<Record<AccountPermission, string>> = {
  ReadAccountsBasic: 'The name you gave each account and its currency.',
  ReadAccountsDetail: 'Your account name, number and sort code.',
  ReadBalances: 'Your account balance.',
  ReadPAN: 'Your card number.',
  ReadBeneficiariesBasic: 'The payees you have set up.',
  ReadBeneficiariesDetail: 'The details of the payees you have set up, including their account numbers.',
  ReadStandingOrdersBasic: 'Your standing orders.',
  ReadStandingOrdersDetail: 'The details of your standing orders, including who they pay.',
  ReadDirectDebits: 'Your Direct Debits.',
  ReadScheduledPaymentsBasic: 'Your recurring and future-dated payments.',
  ReadScheduledPaymentsDetail:
    'The details of your recurring and future-dated payments, including who they pay.',
  ReadStatementsBasic: 'The information in your statements.',
  ReadStatementsDetail: 'The details of the information in your statements.',
  ReadProducts: 'Product details: fees, charges, interest and benefits or rewards.',
  ReadOffers: 'Offers available on your account.',
  ReadParty:
    'The full legal names of the account holders, with the addresses, phone numbers and emails we hold.',
  ReadPartyPSU: 'Your full legal name, address, phone number and email as we hold them.',
};

const GROUPS: { title: string; permissions: AccountPermission[] }[] = [
  {
    title: 'Your account details',
    permissions: ['ReadAccountsBasic', 'ReadAccountsDetail', 'ReadBalances', 'ReadPAN'],
  },
  {
    title: 'Your regular payments',
    permissions: [
      'ReadBeneficiariesBasic',
      'ReadBeneficiariesDetail',
      'ReadStandingOrdersBasic',
      'ReadStandingOrdersDetail',
      'ReadDirectDebits',
      'ReadScheduledPaymentsBasic',
      'ReadScheduledPaymentsDetail',
    ],
  },
  { title: 'Your statements', permissions: ['ReadStatementsBasic', 'ReadStatementsDetail'] },
  { title: 'Your account features and benefits', permissions: ['ReadProducts', 'ReadOffers'] },
  { title: 'Contact and party details', permissions: ['ReadParty', 'ReadPartyPSU'] },
];

function transactionSentences(granted: Set<string>): string[] {
  const detail = granted.has('ReadTransactionsDetail');
  if (!detail && !granted.has('ReadTransactionsBasic')) return [];
  const prefix = detail ? 'The details of your' : 'Your';
  const sentences: string[] = [];
  if (granted.has('ReadTransactionsCredits'))
    sentences.push(`${prefix} incoming transactions (money paid in).`);
  if (granted.has('ReadTransactionsDebits'))
    sentences.push(`${prefix} outgoing transactions (money paid out).`);
  return sentences;
}

/** The permissions of an account-access intent as the groups and sentences the PSU reads. */
export function describePermissions(permissions: readonly string[]): PermissionGroup[] {
  const granted = new Set(permissions);
  const groups: PermissionGroup[] = [];
  for (const group of GROUPS) {
    const items = group.permissions.filter((p) => granted.has(p)).map((p) => SENTENCES[p]!);
    if (items.length > 0) groups.push({ title: group.title, items });
    if (group.title === 'Your regular payments') {
      const transactions = transactionSentences(granted);
      if (transactions.length > 0) groups.push({ title: 'Your account transactions', items: transactions });
    }
  }
  return groups;
}
