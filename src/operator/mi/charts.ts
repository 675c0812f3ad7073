import { html, type SafeHtml } from '../../shared/page-kit/index.ts';
import type { MiDay } from './report.ts';

/** OB's operational benchmarks the charts draw as lines: 99.5 % availability, 750 ms responses. */
const AVAILABILITY_GOAL = 99.5;
const RESPONSE_GOAL_MS = 750;
const WIDTH = 640;
const HEIGHT = 160;
const PAD = 36;

/**
 * The console's MI charts: per API and version, a bar per day of its availability and of its mean time to
 * last byte, as inline SVG (no script, nothing fetched), each with a table of the same figures.
 */
export function miCharts(days: readonly MiDay[], dayList: readonly string[]): SafeHtml {
  const apis = [...new Set(days.map((day) => `${day.api} ${day.version}`))].sort();
  if (apis.length === 0) return html`<p>No Read/Write API calls in these days.</p>`;
  return html`${apis.map((key) => {
    const [api = '', version = ''] = key.split(' ');
    const ofApi = new Map(days.filter((d) => d.api === api && d.version === version).map((d) => [d.day, d]));
    const availability = dayList.map((day) => ofApi.get(day)?.availabilityPercent ?? null);
    const response = dayList.map((day) => ofApi.get(day)?.averageLastByteMs ?? null);
    const maxResponse = Math.max(RESPONSE_GOAL_MS * 1.2, ...response.map((v) => v ?? 0));
    return html`<section class="mi-api">
      <h2>${api} ${version}</h2>
      ${barChart(`Availability of ${api} ${version} per day (%)`, dayList, availability, 100, AVAILABILITY_GOAL, '%')}
      ${barChart(`Mean response time of ${api} ${version} per day (ms)`, dayList, response, maxResponse, RESPONSE_GOAL_MS, ' ms')}
      <table class="list">
        <thead>
          <tr>
            <th>Day</th>
            <th>Calls</th>
            <th>Technical failures</th>
            <th>Availability</th>
            <th>Mean time to last byte</th>
          </tr>
        </thead>
        <tbody>
          ${dayList
            .filter((day) => ofApi.has(day))
            .map((day) => {
              const d = ofApi.get(day)!;
              return html`<tr>
                <td>${day}</td>
                <td>${d.calls}</td>
                <td>${d.technicalFailures}</td>
                <td>${d.availabilityPercent.toFixed(3)} %</td>
                <td>${d.averageLastByteMs === null ? '—' : `${d.averageLastByteMs.toFixed(1)} ms`}</td>
              </tr>`;
            })}
        </tbody>
      </table>
    </section>`;
  })}`;
}

function barChart(
  title: string,
  dayList: readonly string[],
  values: readonly (number | null)[],
  max: number,
  goal: number,
  unit: string,
): SafeHtml {
  const plotWidth = WIDTH - 2 * PAD;
  const plotHeight = HEIGHT - 2 * PAD;
  const slot = plotWidth / Math.max(1, dayList.length);
  const y = (value: number) => PAD + plotHeight - (Math.min(value, max) / max) * plotHeight;
  return html`<svg
    role="img"
    aria-label="${title}"
    viewBox="0 0 ${WIDTH} ${HEIGHT}"
    width="100%"
    xmlns="http://www.w3.org/2000/svg"
  >
    <title>${title}</title>
    <line
      x1="${PAD}"
      y1="${PAD + plotHeight}"
      x2="${PAD + plotWidth}"
      y2="${PAD + plotHeight}"
      stroke="#555"
    />
    <line
      class="goal"
      x1="${PAD}"
      y1="${y(goal).toFixed(1)}"
      x2="${PAD + plotWidth}"
      y2="${y(goal).toFixed(1)}"
      stroke="#b00"
      stroke-dasharray="4 3"
    />
    <text x="${PAD + plotWidth}" y="${(y(goal) - 3).toFixed(1)}" text-anchor="end" font-size="10" fill="#b00">
      goal ${goal}${unit}
    </text>
    ${values.map((value, index) => {
      const x = PAD + index * slot + slot * 0.15;
      const day = dayList[index] ?? '';
      if (value === null) return html``;
      return html`<rect
        x="${x.toFixed(1)}"
        y="${y(value).toFixed(1)}"
        width="${(slot * 0.7).toFixed(1)}"
        height="${(PAD + plotHeight - y(value)).toFixed(1)}"
        fill="#2a6"
      >
        <title>${day}: ${value}${unit}</title>
      </rect>`;
    })}
    ${dayList.map((day, index) =>
      index % Math.ceil(dayList.length / 7) === 0
        ? html`<text
            x="${(PAD + index * slot + slot / 2).toFixed(1)}"
            y="${HEIGHT - PAD / 2}"
            text-anchor="middle"
            font-size="10"
            >${day.slice(5)}</text
          >`
        : html``,
    )}
  </svg>`;
}
