// Values compiled into the bundle by examples/web/serve.mjs (esbuild `define`): the stack the page
// is served for. Both are public (the anon key is a publishable key).
interface ImportMeta {
  readonly env: {
    readonly SUPABASE_URL: string
    readonly SUPABASE_ANON_KEY: string
  }
}
