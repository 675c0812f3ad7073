/**
 * The Open Banking frequency codes of standing orders, as the v3.1.11 payment-initiation OpenAPI
 * patterns them: EvryDay | EvryWorkgDay | IntrvlDay:NN | IntrvlWkDay:0W:0D | WkInMnthDay:0W:0D |
 * IntrvlMnthDay:MM:DD (DD -01..-05 counts from the month's end) | QtrDay:ENGLISH|SCOTTISH|RECEIVED.
 * The bank's own schedules also know `NotKnown` (no automatic schedule), which a TPP may not request.
 */
export const OB_FREQUENCY =
  /^(EvryDay)$|^(EvryWorkgDay)$|^(IntrvlDay:((0[2-9])|([1-2][0-9])|3[0-1]))$|^(IntrvlWkDay:0[1-9]:0[1-7])$|^(WkInMnthDay:0[1-5]:0[1-7])$|^(IntrvlMnthDay:(0[1-6]|12|24):(-0[1-5]|0[1-9]|[12][0-9]|3[01]))$|^(QtrDay:(ENGLISH|SCOTTISH|RECEIVED))$/;
