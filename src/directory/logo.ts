import { escapeHtml } from '../shared/page-kit/index.ts';

const palette = ['#1d4e89', '#00798c', '#2e7d32', '#6a1b9a', '#ad1457', '#e65100', '#37474f'];

/** A square logo with the software's initials, for software statements without a logo URI of their own. */
export function logoSvg(clientName: string): string {
  const words = clientName.split(/\s+/).filter(Boolean);
  const initials = (
    words.length > 1 ? `${words[0]![0]}${words[1]![0]}` : clientName.slice(0, 2)
  ).toUpperCase();
  let hash = 0;
  for (const char of clientName) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  const colour = palette[hash % palette.length]!;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128" role="img" aria-label="${escapeHtml(clientName)}"><rect width="128" height="128" rx="20" fill="${colour}"/><text x="64" y="80" font-family="Helvetica, Arial, sans-serif" font-size="48" font-weight="bold" fill="#ffffff" text-anchor="middle">${escapeHtml(initials)}</text></svg>\n`;
}
