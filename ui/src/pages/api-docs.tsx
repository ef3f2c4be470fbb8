export default function ApiDocsPage() {
  return <h1>API reference</h1>;
}
