/**
 * A strict reader of the Prometheus text exposition format (0.0.4): every line is a HELP, a TYPE or a
 * sample of a declared family, names and labels are well formed, values are numbers. It throws on the first
 * line that is not, so a test that reads metrics also proves they parse.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, string[]> = {
  counter: ['', '_total'],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

export function parsePrometheusText(text: string): Sample[] {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  if (!text.endsWith('\n')) throw new Error('the exposition does not end with a newline');
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, index) => {
      const where = `line ${index + 1}: ${line}`;
      if (line === '') return;
      if (line.startsWith('#')) {
        const [, keyword, name, ...rest] = line.split(' ');
        if (keyword === 'HELP') {
          if (!name || !NAME.test(name)) throw new Error(`bad HELP: ${where}`);
        } else if (keyword === 'TYPE') {
          if (!name || !NAME.test(name) || rest.length !== 1 || !TYPES.has(rest[0] ?? ''))
            throw new Error(`bad TYPE: ${where}`);
          if (types.has(name)) throw new Error(`TYPE declared twice: ${where}`);
          types.set(name, rest[0] ?? '');
        }
        return;
      }
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/.exec(line);
      if (!match) throw new Error(`not a sample: ${where}`);
      const [, name = '', , labelText, valueText = ''] = match;
      const family = [...types.entries()].find(([base, type]) =>
        (SUFFIXES[type] ?? ['']).some((suffix) => `${base}${suffix}` === name),
      );
      if (!family) throw new Error(`sample of an undeclared family: ${where}`);
      const labels: Record<string, string> = {};
      if (labelText) {
        const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
        let position = 0;
        while (position < labelText.length) {
          label.lastIndex = position;
          const found = label.exec(labelText);
          if (!found || !LABEL_NAME.test(found[1] ?? '')) throw new Error(`bad labels: ${where}`);
          labels[found[1] ?? ''] = (found[2] ?? '').replace(/\\(.)/g, (_, c: string) =>
            c === 'n' ? '\n' : c,
          );
          position = label.lastIndex;
        }
      }
      const value = ['+Inf', '-Inf', 'NaN'].includes(valueText)
        ? Number(valueText.replace('Inf', 'Infinity'))
        : Number(valueText);
      if (valueText === '' || (Number.isNaN(value) && valueText !== 'NaN'))
        throw new Error(`bad value: ${where}`);
      samples.push({ name, labels, value });
    });
  return samples;
}

/** The value of the sample named `name` whose labels include `labels` (0 when there is none). */
export function sampleValue(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): number {
  return samples
    .filter(
      (sample) => sample.name === name && Object.entries(labels).every(([k, v]) => sample.labels[k] === v),
    )
    .reduce((sum, sample) => sum + sample.value, 0);
}
