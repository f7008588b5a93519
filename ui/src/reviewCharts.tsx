// The weekly review's charts, drawn as inline SVG (no chart library): cohort trend and closure
// curves (a line per segment), equity ratios (horizontal bars around 1.0 with the threshold
// band) and contacts per person (bars per bucket, week and 28 days). Colours are the
// Okabe–Ito palette, and each line also has its own dash pattern, so no series depends on
// colour alone. Every chart says "No data yet" when there is nothing to draw, copes with a
// single point, and is an image with a title and a description for screen readers.
import { memo, useId, type ReactNode } from "react";
import type { Bucket } from "./bindings/Bucket";
import type { EquityRow } from "./bindings/EquityRow";
import { formatCount, formatDayMonth } from "./format";
import { formatRatio, groupLabel, type Series } from "./reviewModel";
import { humanize } from "./worklistModel";

/** Okabe–Ito, without the yellow (too light on white for lines and text). */
export const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"] as const;
const DASHES = ["", "10 5", "3 4", "14 4 3 4"] as const;

/** Colour and dash of the i-th series (28 distinct combinations). */
export function seriesStyle(i: number): { colour: string; dash: string } {
  return { colour: PALETTE[i % PALETTE.length] as string, dash: DASHES[i % DASHES.length] as string };
}

/** Round tick values covering [min, max], about `count` of them (steps of 1, 2 or 5 × 10^k). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max <= min) return [min];
  const raw = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** The smallest round number at least `max` (for a count axis starting at 0). */
function niceMax(max: number): number {
  if (max <= 0) return 1;
  const ticks = niceTicks(0, max, 4);
  const last = ticks[ticks.length - 1] ?? max;
  if (last >= max) return last;
  const step = ticks.length > 1 ? last - (ticks[ticks.length - 2] ?? 0) : max;
  return last + step;
}

function scale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  if (d1 === d0) return () => (r0 + r1) / 2;
  return (v) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0);
}

function ChartFigure({
  title,
  description,
  empty,
  testId,
  legend,
  height = HEIGHT,
  children,
}: {
  title: string;
  description: string;
  empty: boolean;
  testId: string;
  legend?: ReactNode;
  height?: number;
  children: ReactNode;
}) {
  const id = useId();
  return (
    <figure className="chart" data-testid={testId}>
      <figcaption className="chart-title">{title}</figcaption>
      {empty ? (
        <p className="chart-empty" data-testid={`${testId}-empty`}>
          No data yet
        </p>
      ) : (
        <>
          <svg
            className="chart-svg"
            role="img"
            aria-label={title}
            aria-describedby={`${id}-desc`}
            viewBox={`0 0 ${WIDTH} ${height}`}
            preserveAspectRatio="xMidYMid meet"
          >
            <title>{title}</title>
            <desc id={`${id}-desc`}>{description}</desc>
            {children}
          </svg>
          {legend}
        </>
      )}
    </figure>
  );
}

const WIDTH = 720;
const HEIGHT = 300;
const MARGIN = { left: 64, right: 20, top: 16, bottom: 44 };

function Legend({ items }: { items: { id: string; label: string; colour: string; dash: string; kind: "line" | "bar" }[] }) {
  return (
    <ul className="chart-legend">
      {items.map((item) => (
        <li key={item.id}>
          <svg width="36" height="14" aria-hidden="true" focusable="false">
            {item.kind === "line" ? (
              <line x1="2" y1="7" x2="34" y2="7" stroke={item.colour} strokeWidth="4" strokeDasharray={item.dash || undefined} />
            ) : (
              <rect x="4" y="1" width="28" height="12" fill={item.colour} />
            )}
          </svg>
          {item.label}
        </li>
      ))}
    </ul>
  );
}

type Axis = { min: number; max: number; ticks: number[]; format: (v: number) => string };

/** Lines over a shared x and y axis; a series of one point is a marker. */
export const LineChart = memo(function LineChart({
  title,
  description,
  series,
  x,
  y,
  testId,
}: {
  title: string;
  description: string;
  series: Series[];
  x: Axis;
  y: Axis;
  testId: string;
}) {
  const empty = series.every((s) => s.points.length === 0);
  const sx = scale(x.min, x.max, MARGIN.left, WIDTH - MARGIN.right);
  const sy = scale(y.min, y.max, HEIGHT - MARGIN.bottom, MARGIN.top);
  const legend = (
    <Legend items={series.map((s, i) => ({ id: s.id, label: s.label, kind: "line", ...seriesStyle(i) }))} />
  );
  return (
    <ChartFigure title={title} description={description} empty={empty} testId={testId} legend={legend}>
      <g className="chart-grid">
        {y.ticks.map((t) => (
          <g key={`y${t}`}>
            <line x1={MARGIN.left} x2={WIDTH - MARGIN.right} y1={sy(t)} y2={sy(t)} />
            <text x={MARGIN.left - 8} y={sy(t)} textAnchor="end" dominantBaseline="middle">
              {y.format(t)}
            </text>
          </g>
        ))}
        {x.ticks.map((t) => (
          <text key={`x${t}`} x={sx(t)} y={HEIGHT - MARGIN.bottom + 22} textAnchor="middle">
            {x.format(t)}
          </text>
        ))}
        <line className="chart-axis" x1={MARGIN.left} x2={WIDTH - MARGIN.right} y1={HEIGHT - MARGIN.bottom} y2={HEIGHT - MARGIN.bottom} />
      </g>
      {series.map((s, i) => {
        const { colour, dash } = seriesStyle(i);
        const markers = s.points.length <= 16;
        return (
          <g key={s.id} className="series" data-series={s.id}>
            <title>{s.label}</title>
            {s.points.length > 1 && (
              <polyline
                points={s.points.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(" ")}
                fill="none"
                stroke={colour}
                strokeWidth="3"
                strokeDasharray={dash || undefined}
                strokeLinejoin="round"
              />
            )}
            {markers &&
              s.points.map((p) => <circle key={p.x} cx={sx(p.x)} cy={sy(p.y)} r={s.points.length === 1 ? 6 : 4} fill={colour} />)}
          </g>
        );
      })}
    </ChartFigure>
  );
});


/**
 * Cohort size per segment over the recorded runs. `runs` (every run's date, when the chart is
 * one of several) keeps the same time axis under each.
 */
export function TrendChart({
  series,
  title = "Cohort size by run",
  runs,
  testId = "chart-trend",
}: {
  series: Series[];
  title?: string;
  runs?: number[];
  testId?: string;
}) {
  const xs = runs ?? [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const ys = series.flatMap((s) => s.points.map((p) => p.y));
  const min = xs[0] ?? 0;
  const max = xs[xs.length - 1] ?? 0;
  // One run: widen the axis by three days each side so the point sits in the middle.
  const pad = min === max ? 3 * 86_400_000 : 0;
  const every = Math.max(1, Math.ceil(xs.length / 6));
  const yMax = niceMax(Math.max(0, ...ys));
  return (
    <LineChart
      title={title}
      description={`${series.length === 1 ? "One segment" : `${series.length} segments`} over ${xs.length} recorded runs.`}
      series={series}
      testId={testId}
      x={{ min: min - pad, max: max + pad, ticks: xs.filter((_, i) => i % every === 0), format: (v) => formatDayMonth(new Date(v).toISOString()) }}
      y={{ min: 0, max: yMax, ticks: niceTicks(0, yMax, 4), format: formatCount }}
    />
  );
}

/**
 * One small trend chart per segment, side by side on the same time axis, each with its own
 * scale: twelve lines in one plot cannot be told apart.
 */
export function TrendMultiples({ series }: { series: Series[] }) {
  const runs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  if (series.length <= 1) return <TrendChart series={series} />;
  return (
    <div className="small-multiples" data-testid="trend-multiples">
      {series.map((s) => (
        <TrendChart key={s.id} series={[s]} title={`${s.label}: size by run`} runs={runs} testId={`chart-trend-${s.id}`} />
      ))}
    </div>
  );
}

/** Cumulative care-gap closure by days after the first attempt, 0–90 days, 0–100 %. */
export function ClosureCurveChart({ series }: { series: Series[] }) {
  return (
    <LineChart
      title="Care-gap closure after the first attempt"
      description={`Share of cases closed by day, 0 to 90 days, for ${series.length} segments.`}
      series={series}
      testId="chart-closure"
      x={{ min: 0, max: 90, ticks: [0, 30, 60, 90], format: (v) => `${v} d` }}
      y={{ min: 0, max: 1, ticks: [0, 0.25, 0.5, 0.75, 1], format: (v) => `${Math.round(v * 100)}%` }}
    />
  );
}

/** Equity ratios on a log scale around 1.0; the band between 1/threshold and threshold is not flagged. */
export const EquityChart = memo(function EquityChart({ rows, threshold }: { rows: EquityRow[]; threshold: number }) {
  const label = (r: EquityRow) => `${humanize(r.dimension)}: ${groupLabel(r.dimension, r.group)}`;
  const band = threshold > 1 ? threshold : 1 / Math.max(threshold, 1e-9);
  const extreme = rows.reduce((m, r) => (r.ratio !== null && r.ratio > 0 ? Math.max(m, r.ratio, 1 / r.ratio) : m), band * 1.5);
  const limit = Math.min(8, extreme);
  const labelWidth = 240;
  const rowHeight = 26;
  const height = MARGIN.top + rows.length * rowHeight + 36;
  const left = labelWidth;
  const right = WIDTH - 120; // room for "2.40 over"
  const sx = (v: number) => {
    const clamped = Math.min(limit, Math.max(1 / limit, v));
    return scale(-Math.log(limit), Math.log(limit), left, right)(Math.log(clamped));
  };
  const ticks = [1 / limit, 1 / band, 1, band, limit].filter((v, i, all) => all.indexOf(v) === i);
  const title = "Share against panel share (ratio)";
  return (
    <ChartFigure
      title={title}
      description={`${rows.length} groups; 1.00 means the group's share equals its panel share; the shaded band from ${formatRatio(1 / band)} to ${formatRatio(band)} is not flagged.`}
      empty={rows.length === 0}
      testId="chart-equity"
      height={height}
      legend={
        <Legend
          items={[
            { id: "over", label: `Over (≥ ${formatRatio(band)})`, colour: PALETTE[1], dash: "", kind: "bar" },
            { id: "under", label: `Under (≤ ${formatRatio(1 / band)})`, colour: PALETTE[0], dash: "", kind: "bar" },
            { id: "none", label: "Not flagged", colour: "#6b7280", dash: "", kind: "bar" },
          ]}
        />
      }
    >
      <rect className="chart-band" x={sx(1 / band)} y={MARGIN.top - 4} width={sx(band) - sx(1 / band)} height={rows.length * rowHeight + 8} />
      <g className="chart-grid">
        {ticks.map((t) => (
          <text key={t} x={sx(t)} y={height - 12} textAnchor="middle">
            {formatRatio(t)}
          </text>
        ))}
      </g>
      {rows.map((r, i) => {
        const y = MARGIN.top + i * rowHeight;
        const x0 = sx(1);
        const x1 = r.ratio === null ? x0 : sx(r.ratio);
        const fill = r.flag === "over" ? PALETTE[1] : r.flag === "under" ? PALETTE[0] : "#6b7280";
        return (
          <g key={`${r.segment_id}|${r.population}|${r.dimension}|${r.group}`}>
            <text x={left - 8} y={y + rowHeight / 2} textAnchor="end" dominantBaseline="middle" className="chart-label">
              {label(r).length > 30 ? `${label(r).slice(0, 29)}…` : label(r)}
            </text>
            {r.ratio !== null && (
              <rect
                className="bar"
                data-flag={r.flag || "none"}
                x={Math.min(x0, x1)}
                y={y + 5}
                width={Math.max(2, Math.abs(x1 - x0))}
                height={rowHeight - 10}
                fill={fill}
              >
                <title>{`${label(r)}: ${formatRatio(r.ratio)}${r.flag ? ` (${r.flag})` : ""}`}</title>
              </rect>
            )}
            <text x={r.ratio === null ? x0 + 6 : Math.max(x0, x1) + 6} y={y + rowHeight / 2} dominantBaseline="middle" className="chart-value">
              {formatRatio(r.ratio)}
              {r.flag ? ` ${r.flag}` : ""}
            </text>
          </g>
        );
      })}
      <line className="chart-reference" x1={sx(1)} x2={sx(1)} y1={MARGIN.top - 8} y2={MARGIN.top + rows.length * rowHeight + 8} />
    </ChartFigure>
  );
});

/** People by contacts received: one bar per bucket for the week and one for the 28 days. */
export const ContactsChart = memo(function ContactsChart({ perWeek, perMonth }: { perWeek: Bucket[]; perMonth: Bucket[] }) {
  const categories = [...new Set([...perWeek.map((b) => b.contacts), ...perMonth.map((b) => b.contacts)])];
  const groups = [
    { id: "week", label: "In the week", buckets: perWeek },
    { id: "month", label: "In the 28 days", buckets: perMonth },
  ].filter((g) => g.buckets.length > 0);
  const max = niceMax(Math.max(0, ...perWeek.map((b) => b.people), ...perMonth.map((b) => b.people)));
  const sy = scale(0, max, HEIGHT - MARGIN.bottom, MARGIN.top);
  const slot = (WIDTH - MARGIN.left - MARGIN.right) / Math.max(1, categories.length);
  const barWidth = Math.min(56, (slot * 0.8) / Math.max(1, groups.length));
  const colours = [PALETTE[0], PALETTE[4]] as const;
  return (
    <ChartFigure
      title="People by number of contacts"
      description={`Buckets ${categories.join(", ")}; bars for the week and for the 28 days ending with it.`}
      empty={categories.length === 0}
      testId="chart-contacts"
      legend={<Legend items={groups.map((g, i) => ({ id: g.id, label: g.label, colour: colours[i] as string, dash: "", kind: "bar" }))} />}
    >
      <g className="chart-grid">
        {niceTicks(0, max, 4).map((t) => (
          <g key={t}>
            <line x1={MARGIN.left} x2={WIDTH - MARGIN.right} y1={sy(t)} y2={sy(t)} />
            <text x={MARGIN.left - 8} y={sy(t)} textAnchor="end" dominantBaseline="middle">
              {formatCount(t)}
            </text>
          </g>
        ))}
        {categories.map((c, i) => (
          <text key={c} x={MARGIN.left + slot * (i + 0.5)} y={HEIGHT - MARGIN.bottom + 22} textAnchor="middle">
            {c}
          </text>
        ))}
        <line className="chart-axis" x1={MARGIN.left} x2={WIDTH - MARGIN.right} y1={HEIGHT - MARGIN.bottom} y2={HEIGHT - MARGIN.bottom} />
      </g>
      {groups.map((g, gi) => (
        <g key={g.id} className="series" data-series={g.id}>
          {g.buckets.map((b) => {
            const i = categories.indexOf(b.contacts);
            const x = MARGIN.left + slot * (i + 0.5) - (barWidth * groups.length) / 2 + gi * barWidth;
            const top = sy(b.people);
            return (
              <g key={b.contacts}>
                <rect className="bar" x={x} y={top} width={barWidth - 2} height={HEIGHT - MARGIN.bottom - top} fill={colours[gi]}>
                  <title>{`${g.label}, ${b.contacts} contacts: ${formatCount(b.people)} people`}</title>
                </rect>
                <text x={x + (barWidth - 2) / 2} y={top - 6} textAnchor="middle" className="chart-value">
                  {formatCount(b.people)}
                </text>
              </g>
            );
          })}
        </g>
      ))}
    </ChartFigure>
  );
});
