// SQL files bundled as text (wrangler.toml's [[rules]] type "Text"): the Durable Objects'
// migrations, imported by the migrations.js that drizzle-kit writes beside them.
declare module "*.sql" {
  const text: string;
  export default text;
}
