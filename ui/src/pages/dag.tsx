import { useParams } from "@tanstack/react-router";

export function DagPage() {
  const { name } = useParams({ from: "/dags/$name" });
  return <h1>{name}</h1>;
}
