import HudClient from "@/components/HudClient";

export default function Page() {
  return <HudClient />;
}
