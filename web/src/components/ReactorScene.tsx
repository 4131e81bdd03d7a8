"use client";
/**
 * Holographic Token Gauge: the reactor core (heats blue → red with pressure), one holographic
 * ring per budget scope, token particles absorbed into the core, Bloom + Glitch. Presentational:
 * every number comes from the runtime (interpolated per frame).
 */
import { Canvas, useFrame, useThree } from "@react-three/fiber";
import { Bloom, EffectComposer, Glitch } from "@react-three/postprocessing";
import { GlitchMode, type BloomEffect } from "postprocessing";
import { useEffect, useMemo, useRef } from "react";
import * as THREE from "three";
import type { HudRuntime } from "@/lib/runtime";
import { useHudSelector, useRuntime } from "./runtime-context";

const OFF = new Set(typeof window === "undefined" ? [] : (new URLSearchParams(window.location.search).get("off") ?? "").split(","));
const BLUE = new THREE.Color("#1aa3ff");
const CYAN = new THREE.Color("#3ff0ff");
const RED = new THREE.Color("#ff2a12");
const AMBER = new THREE.Color("#ffb020");

/** Blue → violet → red as heat rises (not a dull brown midpoint). */
function heatColor(out: THREE.Color, heat: number): THREE.Color {
  const h = Math.min(1, Math.max(0, heat));
  if (h < 0.55) return out.copy(BLUE).lerp(CYAN, 0.35 * (1 - h / 0.55));
  const k = (h - 0.55) / 0.45;
  return out.copy(BLUE).lerp(RED, k * k * (3 - 2 * k));
}

function radialTexture(inner: string, outer: string, size = 128): THREE.Texture {
  const c = document.createElement("canvas");
  c.width = c.height = size;
  const g = c.getContext("2d")!;
  const grad = g.createRadialGradient(size / 2, size / 2, 0, size / 2, size / 2, size / 2);
  grad.addColorStop(0, inner);
  grad.addColorStop(0.25, inner.replace(/[\d.]+\)$/, "0.55)"));
  grad.addColorStop(1, outer);
  g.fillStyle = grad;
  g.fillRect(0, 0, size, size);
  const t = new THREE.CanvasTexture(c);
  t.colorSpace = THREE.SRGBColorSpace;
  return t;
}

const coreVertex = /* glsl */ `
  varying vec3 vN; varying vec3 vView; varying vec3 vPos;
  uniform float uTime; uniform float uHeat;
  void main() {
    vPos = position;
    float wob = sin(position.y * 7.0 + uTime * 2.3) * sin(position.x * 5.0 - uTime * 1.7) * (0.025 + 0.05 * uHeat);
    vec3 p = position * (1.0 + wob);
    vec4 mv = modelViewMatrix * vec4(p, 1.0);
    vN = normalize(normalMatrix * normal);
    vView = normalize(-mv.xyz);
    gl_Position = projectionMatrix * mv;
  }
`;
const coreFragment = /* glsl */ `
  varying vec3 vN; varying vec3 vView; varying vec3 vPos;
  uniform float uTime; uniform float uHeat; uniform float uFlash; uniform vec3 uColor;
  void main() {
    float fres = pow(1.0 - max(dot(vN, vView), 0.0), 2.2);
    float bands = 0.5 + 0.5 * sin(vPos.y * 18.0 - uTime * (2.0 + 6.0 * uHeat));
    float cells = 0.5 + 0.5 * sin(vPos.x * 11.0 + uTime) * sin(vPos.z * 11.0 - uTime * 1.3);
    float energy = 0.35 + 0.4 * bands * cells + 1.6 * fres;
    vec3 hot = mix(uColor, vec3(1.0, 0.95, 0.85), 0.25 * uFlash + 0.15 * fres * uHeat);
    gl_FragColor = vec4(hot * energy * (1.25 + uFlash * 1.5 + uHeat * 0.6), 0.92);
    #include <colorspace_fragment>
  }
`;

// Procedural glow (no texture fetch: cheap under software GL): a wide soft corona plus, when
// Bloom is off, a tighter white-hot halo.
const glowVertex = /* glsl */ `
  varying vec2 vUv;
  void main() { vUv = uv; gl_Position = projectionMatrix * modelViewMatrix * vec4(position, 1.0); }
`;
const glowFragment = /* glsl */ `
  varying vec2 vUv; uniform vec3 uColor; uniform float uOuter; uniform float uInner;
  void main() {
    float d = length(vUv - 0.5) * 2.0;
    if (d > 1.0) discard;
    float outer = (1.0 - d) * (1.0 - d) * uOuter;
    float inner = exp(-d * d * 18.0) * uInner;
    vec3 col = uColor * outer + mix(uColor, vec3(1.0), 0.4) * inner;
    gl_FragColor = vec4(col, 1.0);
    #include <colorspace_fragment>
  }
`;

const ringFragment = /* glsl */ `
  varying vec2 vUv2; uniform float uFill; uniform vec3 uColor; uniform vec3 uTrack; uniform float uTime;
  void main() {
    float a = atan(vUv2.y, vUv2.x) / 6.2831853 + 0.5;
    float seg = step(0.18, fract(a * 72.0));
    float filled = step(a, clamp(uFill, 0.0, 1.0));
    float head = smoothstep(0.02, 0.0, abs(a - uFill)) * step(0.001, uFill);
    float scan = 0.5 + 0.5 * sin((a - uTime * 0.15) * 6.2831853 * 3.0);
    vec3 col = mix(uTrack * (0.9 + 0.5 * scan), uColor * 2.2, filled) * seg + vec3(1.0) * head * 2.0;
    float alpha = mix(0.55, 1.0, filled) * seg + head;
    gl_FragColor = vec4(col, alpha);
    #include <colorspace_fragment>
  }
`;
const ringVertex = /* glsl */ `
  varying vec2 vUv2;
  void main() { vUv2 = position.xy; gl_Position = projectionMatrix * modelViewMatrix * vec4(position, 1.0); }
`;

function Core({ rt }: { rt: HudRuntime }) {
  const mesh = useRef<THREE.Mesh>(null);
  const shell = useRef<THREE.LineSegments>(null);
  const glow = useRef<THREE.Mesh>(null);
  const inner = useRef<THREE.Mesh>(null);
  const glowUniforms = useMemo(() => ({ uColor: { value: new THREE.Color() }, uOuter: { value: 0.6 }, uInner: { value: 0 } }), []);
  const uniforms = useMemo(
    () => ({ uTime: { value: 0 }, uHeat: { value: 0 }, uFlash: { value: 0 }, uColor: { value: new THREE.Color() } }),
    [],
  );
  const shellGeo = useMemo(() => new THREE.EdgesGeometry(new THREE.IcosahedronGeometry(0.95, 1)), []);
  const tmp = useMemo(() => new THREE.Color(), []);
  useFrame((state, dt) => {
    const heat = rt.smooth.get("heat");
    uniforms.uTime.value += dt;
    uniforms.uHeat.value = heat;
    uniforms.uFlash.value = Math.min(1, rt.flash + rt.burst * 0.4);
    heatColor(uniforms.uColor.value, heat);
    const beat = 1 + 0.04 * Math.sin(uniforms.uTime.value * (2 + heat * 6)) + rt.flash * 0.06;
    mesh.current?.scale.setScalar(beat);
    if (shell.current) {
      shell.current.rotation.y += dt * (0.15 + heat * 0.6);
      shell.current.rotation.x += dt * 0.05;
      (shell.current.material as THREE.LineBasicMaterial).color.copy(heatColor(tmp, heat)).multiplyScalar(1.4);
    }
    const fake = rt.quality.bloom ? 0 : 1; // without Bloom, the billboard's halo carries the glow
    if (glow.current) {
      glow.current.quaternion.copy(state.camera.quaternion); // billboard
      heatColor(glowUniforms.uColor.value, heat);
      glowUniforms.uOuter.value = 0.5 + 0.3 * heat + rt.flash * 0.3 + 0.35 * fake;
      glowUniforms.uInner.value = fake * (0.75 + rt.flash * 0.5);
      glow.current.scale.setScalar(3.6 + heat * 1.6 + rt.flash * 0.5 + fake * 0.8);
    }
    if (inner.current) inner.current.scale.setScalar(0.32 + 0.05 * Math.sin(uniforms.uTime.value * 9) * heat + rt.flash * 0.08);
  });
  return (
    <group>
      <mesh ref={glow} renderOrder={-1} visible={!OFF.has("glow")}>
        <planeGeometry args={[1, 1]} />
        <shaderMaterial
          uniforms={glowUniforms}
          vertexShader={glowVertex}
          fragmentShader={glowFragment}
          transparent
          depthWrite={false}
          blending={THREE.AdditiveBlending}
          toneMapped={false}
        />
      </mesh>
      <mesh ref={mesh} visible={!OFF.has("coremesh")}>
        <icosahedronGeometry args={[0.62, 3]} />
        <shaderMaterial
          uniforms={uniforms}
          vertexShader={coreVertex}
          fragmentShader={coreFragment}
          transparent
          toneMapped={false}
        />
      </mesh>
      <mesh ref={inner}>
        <sphereGeometry args={[1, 16, 12]} />
        <meshBasicMaterial color={[2.2, 2.2, 2.4]} toneMapped={false} />
      </mesh>
      <lineSegments ref={shell} geometry={shellGeo} visible={!OFF.has("shell")}>
        <lineBasicMaterial transparent opacity={0.45} toneMapped={false} blending={THREE.AdditiveBlending} depthWrite={false} />
      </lineSegments>
    </group>
  );
}

/** [tilt about x, roll about z]: a gyroscope of rings, each readable as an ellipse from the camera. */
const RING_TILTS: [number, number][] = [
  [1.05, 0.0],
  [1.2, 0.42],
  [0.95, -0.38],
  [1.3, 0.8],
  [0.85, -0.75],
  [1.15, 1.1],
];

function ScopeRing({ rt, scope, index, count }: { rt: HudRuntime; scope: string; index: number; count: number }) {
  const ref = useRef<THREE.Mesh>(null);
  const r = 1.35 + index * Math.min(0.34, 1.9 / Math.max(1, count - 1));
  const uniforms = useMemo(
    () => ({
      uFill: { value: 0 },
      uTime: { value: 0 },
      uColor: { value: new THREE.Color() },
      uTrack: { value: new THREE.Color("#0e6a8f") },
    }),
    [],
  );
  const [tx, tz] = RING_TILTS[index % RING_TILTS.length]!;
  useFrame((_s, dt) => {
    const p = rt.smooth.get(`ring:${scope}`);
    uniforms.uFill.value = p;
    uniforms.uTime.value += dt;
    const c = uniforms.uColor.value;
    if (p < 0.75) c.copy(CYAN).lerp(BLUE, 0.3);
    else if (p < 0.9) c.copy(AMBER);
    else c.copy(RED);
    if (ref.current) ref.current.rotation.z += dt * (0.08 + index * 0.03) * (index % 2 ? -1 : 1);
  });
  return (
    <group rotation={[tx, 0, tz]}>
      <mesh ref={ref}>
        <ringGeometry args={[r, r + 0.075, 192, 1]} />
        <shaderMaterial
          uniforms={uniforms}
          vertexShader={ringVertex}
          fragmentShader={ringFragment}
          transparent
          side={THREE.DoubleSide}
          depthWrite={false}
          blending={THREE.AdditiveBlending}
          toneMapped={false}
        />
      </mesh>
    </group>
  );
}

function Particles({ rt }: { rt: HudRuntime }) {
  const geo = useMemo(() => {
    const g = new THREE.BufferGeometry();
    g.setAttribute("position", new THREE.BufferAttribute(rt.particles.positions, 3).setUsage(THREE.DynamicDrawUsage));
    g.setAttribute("color", new THREE.BufferAttribute(rt.particles.colors, 3).setUsage(THREE.DynamicDrawUsage));
    g.boundingSphere = new THREE.Sphere(new THREE.Vector3(), 6);
    return g;
  }, [rt]);
  const dot = useMemo(() => radialTexture("rgba(255,255,255,1)", "rgba(255,255,255,0)", 32), []);
  useFrame(() => {
    const n = rt.particles.count;
    geo.setDrawRange(0, n);
    if (n) {
      const pos = geo.getAttribute("position") as THREE.BufferAttribute;
      const col = geo.getAttribute("color") as THREE.BufferAttribute;
      pos.clearUpdateRanges();
      pos.addUpdateRange(0, n * 3);
      pos.needsUpdate = true;
      col.clearUpdateRanges();
      col.addUpdateRange(0, n * 3);
      col.needsUpdate = true;
    }
  });
  return (
    <points geometry={geo} frustumCulled={false}>
      <pointsMaterial
        size={0.15}
        map={dot}
        vertexColors
        transparent
        depthWrite={false}
        blending={THREE.AdditiveBlending}
        sizeAttenuation
        toneMapped={false}
      />
    </points>
  );
}

/** A slowly turning accretion disc of dust + a polar grid floor: depth and motion at idle. */
function Ambient({ rt }: { rt: HudRuntime }) {
  const disc = useRef<THREE.Points>(null);
  const mat = useRef<THREE.PointsMaterial>(null);
  const geo = useMemo(() => {
    const n = 900;
    const pos = new Float32Array(n * 3);
    let s = 7;
    const rnd = () => ((s = (s * 16807) % 2147483647) - 1) / 2147483646;
    for (let i = 0; i < n; i++) {
      const r = 1.2 + Math.pow(rnd(), 0.7) * 3.6;
      const a = rnd() * Math.PI * 2;
      pos[i * 3] = Math.cos(a) * r;
      pos[i * 3 + 1] = (rnd() - 0.5) * 0.12 * r;
      pos[i * 3 + 2] = Math.sin(a) * r;
    }
    const g = new THREE.BufferGeometry();
    g.setAttribute("position", new THREE.BufferAttribute(pos, 3));
    return g;
  }, []);
  const dot = useMemo(() => radialTexture("rgba(255,255,255,1)", "rgba(255,255,255,0)", 16), []);
  const grid = useMemo(() => {
    const h = new THREE.PolarGridHelper(5.5, 24, 7, 96, "#0e5a78", "#0a3346");
    (h.material as THREE.Material).transparent = true;
    (h.material as THREE.Material).opacity = 0.45;
    return h;
  }, []);
  const tmp = useMemo(() => new THREE.Color(), []);
  useFrame((_s, dt) => {
    geo.setDrawRange(0, Math.round(900 * rt.quality.particles));
    if (disc.current) disc.current.rotation.y += dt * (0.05 + rt.smooth.get("velocity") / 4000);
    if (mat.current) mat.current.color.copy(heatColor(tmp, rt.smooth.get("heat") * 0.7)).multiplyScalar(0.55);
  });
  return (
    <group>
      <points ref={disc} geometry={geo} rotation={[0.18, 0, 0.06]}>
        <pointsMaterial ref={mat} size={0.035} map={dot} transparent depthWrite={false} blending={THREE.AdditiveBlending} toneMapped={false} />
      </points>
      <primitive object={grid} position={[0, -1.9, 0]} />
    </group>
  );
}

function Rig({ rt }: { rt: HudRuntime }) {
  const { camera } = useThree();
  useFrame(() => {
    const t = rt.time;
    const shake = rt.burst > 0 ? 0.03 * rt.burst : 0;
    camera.position.set(Math.sin(t * 0.07) * 0.8 + (Math.random() - 0.5) * shake, 1.9 + Math.sin(t * 0.11) * 0.15, 7.4);
    camera.lookAt(0, 0.05, 0);
  });
  return null;
}

function Effects({ rt }: { rt: HudRuntime }) {
  useHudSelector(rt, (r) => `${r.governor.level}:${r.reactor.core.state}:${r.burst > 0}`);
  const q = rt.quality;
  const bloom = useRef<BloomEffect>(null);
  useFrame(() => {
    if (bloom.current) bloom.current.intensity = 0.9 + rt.smooth.get("heat") * 1.8 + rt.flash * 0.6 + rt.burst * 0.5;
  });
  const state = rt.reactor.core.state;
  const glitchOn = q.glitch && (state === "critical" || state === "blocked" || rt.burst > 0 || state === "warning");
  if (!q.bloom) return null;
  const bloomEl = <Bloom ref={bloom} mipmapBlur luminanceThreshold={0.25} luminanceSmoothing={0.3} radius={0.72} intensity={1.2} />;
  return q.glitch ? (
    <EffectComposer key={`g${q.multisampling}`} multisampling={q.multisampling}>
      {bloomEl}
      <Glitch
        active={glitchOn}
        mode={state === "warning" ? GlitchMode.SPORADIC : GlitchMode.CONSTANT_MILD}
        delay={new THREE.Vector2(state === "warning" ? 2.5 : 0.4, state === "warning" ? 6 : 1.4)}
        duration={new THREE.Vector2(0.1, 0.35)}
        strength={new THREE.Vector2(0.05, state === "warning" ? 0.15 : 0.35)}
        ratio={0.85}
      />
    </EffectComposer>
  ) : (
    <EffectComposer key={`b${q.multisampling}`} multisampling={q.multisampling}>
      {bloomEl}
    </EffectComposer>
  );
}

const ringOrder = (s: string) => (s.startsWith("request") ? 3 : s.startsWith("lane") ? 1 : s === "batch" ? 0 : 2);

function Scene() {
  const rt = useRuntime();
  // innermost ring: batch, then lanes, periods/money, request scopes outermost (as the legend)
  const scopeList = useHudSelector(rt, (r) =>
    r.reactor.rings
      .map((g) => g.scope)
      .sort((a, b) => ringOrder(a) - ringOrder(b))
      .join(","),
  );
  const scopes = scopeList ? scopeList.split(",") : [];
  return (
    <>
      <Rig rt={rt} />
      {OFF.has("ambient") ? null : <Ambient rt={rt} />}
      {OFF.has("core") ? null : <Core rt={rt} />}
      {OFF.has("rings") ? null : scopes.map((s, i) => <ScopeRing key={s} rt={rt} scope={s} index={i} count={scopes.length} />)}
      {OFF.has("particles") ? null : <Particles rt={rt} />}
      <Effects rt={rt} />
    </>
  );
}

function DprGovernor() {
  const rt = useRuntime();
  useHudSelector(rt, (r) => r.governor.level);
  const setDpr = useThree((s) => s.setDpr);
  const dpr = Math.min(rt.quality.dpr, typeof window === "undefined" ? 1 : window.devicePixelRatio || 1);
  useEffect(() => setDpr(dpr), [dpr, setDpr]);
  return null;
}

export default function ReactorScene({ rt }: { rt: HudRuntime }) {
  return (
    <Canvas
      data-testid="reactor-canvas"
      dpr={1}
      gl={{ antialias: false, alpha: false, powerPreference: "high-performance", preserveDrawingBuffer: false }}
      camera={{ position: [0, 1.9, 7.4], fov: 42, near: 0.1, far: 60 }}
      style={{ position: "absolute", inset: 0 }}
    >
      <color attach="background" args={["#030a14"]} />
      <DprGovernor />
      <Scene />
    </Canvas>
  );
}

export { heatColor };
export type { HudRuntime };
