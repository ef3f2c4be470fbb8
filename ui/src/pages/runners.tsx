export function RunnersPage() {
  return <h1>Runners</h1>;
}
