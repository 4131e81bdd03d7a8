import type { NextConfig } from "next";

// Static export: the Python server serves web/out/ at "/" and the API at "/api/..." (same origin).
const nextConfig: NextConfig = {
  output: "export",
  images: { unoptimized: true },
  reactStrictMode: true,
  poweredByHeader: false,
};

export default nextConfig;
