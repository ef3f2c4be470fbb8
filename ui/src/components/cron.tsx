// A schedule's cron expressions, wherever a list shows them (the DAG list, the system's next
// firings): each on a line of its own, never wrapped, whole in its title.
import "./cron.css";

export function CronExpressions({ expressions, className }: { expressions: string[]; className?: string }) {
  return expressions.map((e) => (
    <code key={e} className={className ? `cron ${className}` : "cron"} title={e}>
      {e}
    </code>
  ));
}
