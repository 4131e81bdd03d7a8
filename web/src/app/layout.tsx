import type { Metadata, Viewport } from "next";
import "@fontsource/rajdhani/latin-500.css";
import "@fontsource/rajdhani/latin-600.css";
import "@fontsource/rajdhani/latin-700.css";
import "@fontsource/jetbrains-mono/latin-400.css";
import "@fontsource/jetbrains-mono/latin-600.css";
import "./globals.css";

export const metadata: Metadata = {
  title: "Reactor Core HUD · brain-agent",
  description: "Brain Energy Flow: live token budget, cost pulse and exploit/explore radar.",
};

export const viewport: Viewport = { themeColor: "#02060d" };

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body className="hud-bg">{children}</body>
    </html>
  );
}
