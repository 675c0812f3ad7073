/** The operator's reports, as the command line reads them (src/cli may import only the server and tpp). */
export { readMiReport, miReportCsv, type MiReport, type MiHourRow } from '../operator/mi/report.ts';
