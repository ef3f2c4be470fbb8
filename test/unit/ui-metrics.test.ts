import { describe, expect, it } from "vitest";
import { metricValue, parseMetrics, samplesOf } from "../../ui/src/lib/metrics";

const TEXT = `# HELP dagu_info dagflare build information
# TYPE dagu_info gauge
dagu_info{version="0.1.0",engine="dagflare"} 1
dagu_uptime_seconds 42.5
dagu_dag_runs_total{status="succeeded"} 7
dagu_dag_runs_total{status="failed"} 2
dagflare_step_duration_seconds_bucket{le="+Inf"} 9
weird_label{path="a \\"quoted\\" \\\\ path\\nnext"} 3 1700000000000
`;

describe("the Prometheus text parser of the system page", () => {
  it("reads names, labels and values and skips comments", () => {
    const samples = parseMetrics(TEXT);
    expect(samples).toHaveLength(6);
    expect(samples[0]).toEqual({ name: "dagu_info", labels: { version: "0.1.0", engine: "dagflare" }, value: 1 });
    expect(samples[1]).toEqual({ name: "dagu_uptime_seconds", labels: {}, value: 42.5 });
  });

  it("unescapes quotes, backslashes and newlines in label values and ignores timestamps", () => {
    const [s] = samplesOf(parseMetrics(TEXT), "weird_label");
    expect(s?.labels.path).toBe('a "quoted" \\ path\nnext');
    expect(s?.value).toBe(3);
  });

  it("sums a metric over its labels, or picks the samples matching some", () => {
    const samples = parseMetrics(TEXT);
    expect(metricValue(samples, "dagu_dag_runs_total")).toBe(9);
    expect(metricValue(samples, "dagu_dag_runs_total", { status: "failed" })).toBe(2);
    expect(metricValue(samples, "no_such_metric")).toBeUndefined();
  });

  it("reads +Inf in labels and values", () => {
    const samples = parseMetrics('x{le="+Inf"} +Inf\n');
    expect(samples[0]?.labels.le).toBe("+Inf");
    expect(samples[0]?.value).toBe(Number.POSITIVE_INFINITY);
  });
});
