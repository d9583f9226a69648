import uPlot from 'uplot';

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
  const plot = new uPlot(
    {
      width,
      height: opts.height ?? 280,
      scales: { x: { time: opts.xIsTime !== false }, left: {}, right: {} },
      axes: [
        { stroke: '#aab', grid: { stroke: '#2a2f38' }, label: opts.xLabel },
        { scale: 'left', stroke: '#aab', grid: { stroke: '#2a2f38' }, label: 'room °C' },
        { scale: 'right', side: 1, stroke: '#aab', grid: { show: false }, label: 'supply / outdoor °C' },
      ],
      series: [
        {},
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
