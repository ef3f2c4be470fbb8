export function DagsPage() {
  return <h1>DAGs</h1>;
}
