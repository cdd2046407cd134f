/**
 * DOC: types for asciichart (it ships none): only the part the terminal chart uses.
 */
declare module 'asciichart' {
  export interface PlotConfig {
    min?: number;
    max?: number;
    height?: number;
    offset?: number;
    padding?: string;
    colors?: string[];
    symbols?: string[];
    format?: (x: number, i: number) => string;
  }
  export function plot(series: number[] | number[][], cfg?: PlotConfig): string;
  const asciichart: { plot: typeof plot };
  export default asciichart;
}
