import { useParams } from "@tanstack/react-router";

export function RunPage() {
  const { name, runId } = useParams({ strict: false }) as { name: string; runId: string };
  return (
    <h1>
      {name} / {runId}
    </h1>
  );
}
