"use client";
/** The HUD reads the URL and the browser clock from its first render, so it is rendered on the
 * client only; the exported HTML carries a boot screen. */
import dynamic from "next/dynamic";

const Hud = dynamic(() => import("./Hud"), {
  ssr: false,
  loading: () => (
    <div className="h-screen w-screen grid place-items-center">
      <div className="text-center">
        <div className="text-[22px] font-bold tracking-[0.4em] text-cyan-100 glow">REACTOR CORE</div>
        <div className="num text-[11px] tracking-[0.3em] text-cyan-400/70 mt-2 blink">BOOTING HUD…</div>
      </div>
    </div>
  ),
});

export default function HudClient() {
  return <Hud />;
}
