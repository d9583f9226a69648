import uPlot from 'uplot';
import { t, tr } from './i18n.ts';

export interface SeriesSpec {
  label: string;
  colour: string;
  /** Right-hand axis (supply / outdoor temperature). */
  right?: boolean;
  points?: boolean;
  dash?: number[];
}

/** A time chart with room temperatures on the left axis and supply/outdoor on the right. */
export function timeChart(
  el: HTMLElement,
  xs: number[],
  series: Array<{ spec: SeriesSpec; ys: Array<number | null> }>,
  opts: { height?: number; xIsTime?: boolean; xLabel?: string } = {},
): uPlot {
  const width = Math.max(320, el.clientWidth || 800);
  const isTime = opts.xIsTime !== false;
  // Tick labels and the legend's time in the reader's language and the site's zone (uPlot's own
  // formatters speak English only); `ts` is in seconds, as uPlot keeps time scales.
  const tick = (ts: number) => tr().shortTime(ts * 1000);
  const plot = new uPlot(
    {
      width,
      height: opts.height ?? 280,
      scales: { x: { time: opts.xIsTime !== false }, left: {}, right: {} },
      // Time axes in the site's time zone, like every other time on the dashboard.
      tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), tr().timeZone),
      axes: [
        {
          stroke: '#aab',
          grid: { stroke: '#2a2f38' },
          label: opts.xLabel,
          ...(isTime ? { values: (_u: uPlot, splits: number[]) => splits.map(tick) } : {}),
        },
        { scale: 'left', stroke: '#aab', grid: { stroke: '#2a2f38' }, label: t('chart.room') },
        { scale: 'right', side: 1, stroke: '#aab', grid: { show: false }, label: t('chart.supplyOutdoor') },
      ],
      series: [
        isTime
          ? {
              label: t('chart.time'),
              value: (_u: uPlot, v: number | null) => (v == null ? '—' : tr().dateTime(v * 1000)),
            }
          : { label: opts.xLabel },
        ...series.map(({ spec }) => ({
          label: spec.label,
          stroke: spec.colour,
          width: 2,
          scale: spec.right ? 'right' : 'left',
          dash: spec.dash,
          ...(spec.points ? { paths: () => null, points: { show: true, size: 6, fill: spec.colour } } : {}),
        })),
      ],
    },
    [opts.xIsTime === false ? xs : xs.map((x) => x / 1000), ...series.map((s) => s.ys)] as uPlot.AlignedData,
    el,
  );
  return plot;
}
