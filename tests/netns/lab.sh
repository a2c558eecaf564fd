# A lab of network namespaces, shared by tests/netns/fabric_e2e.sh and bench/fabric/run: a
# controller (ctl, 10.77.0.1) and two providers (p1, p2) on an underlay bridge, and a third
# provider (p3, 192.168.77.10) behind a NAT router (rt) that masquerades: p3 can dial out,
# nothing can dial in. corrald runs in ctl, with the mesh, and one corral-node in each
# provider's namespace, attached with a join token.
# LAB_NAT_FLAGS adds flags to the masquerade rule ("random,fully-random": a new source port per
# flow, which defeats hole punching, so the NAT'd node's mesh traffic takes the relay).
# Source it with T (a short prefix unique to the run), BIN and WORK set; then lab_check (exits
# 77, a skip saying why, where namespaces cannot be made), lab_up, and lab_down at the end (in
# a trap: it removes every namespace it made and every process in them).

say() { echo "${LAB_NAME:-lab}: $*"; }
skip() {
  say "SKIP: $*"
  exit 77
}
NSS=()
lab_check() {
  [ "$(id -u)" -eq 0 ] || skip "needs root to make network namespaces"
  command -v ip >/dev/null || skip "no ip (iproute2)"
  command -v nft >/dev/null || skip "no nft (nftables) for the NAT"
  ip netns add "${T}probe" 2>/dev/null || skip "cannot make a network namespace here"
  ip netns del "${T}probe"
}
lab_down() {
  local ns p
  for ns in "${NSS[@]}"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  done
  for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null; done
  NSS=()
}
in_ns() {
  local ns=$1
  shift
  ip netns exec "$T$ns" "$@"
}
newns() {
  ip netns add "$T$1"
  NSS+=("$T$1")
  ip -n "$T$1" link set lo up
}
plug() {  # NAMESPACE ADDRESS/24: a veth on the underlay's bridge
  ip -n "${T}ul" link add "v$1" type veth peer name eth0 netns "$T$1"
  ip -n "${T}ul" link set "v$1" master br0 up
  ip -n "$T$1" addr add "$2" dev eth0
  ip -n "$T$1" link set eth0 up
}
corral() { in_ns ctl "$BIN/corral" "$@"; }
# The overlay address of a namespace's node.
overlay_of() { ip -n "$T$1" -4 -o addr show | grep -o '100\.[0-9]*\.[0-9]*\.[0-9]*' | head -n1; }
# Waits until job $1 is RUNNING (exit 1 if it does not start).
wait_running() {
  local state=
  for _ in $(seq 300); do
    state=$(corral queue --json -j "$1" 2>/dev/null | grep -o '"state": *"[A-Z]*"' | head -n1 || true)
    case $state in *RUNNING*) return 0 ;; esac
    sleep 0.1
  done
  say "job $1 is not running: $state"
  exit 1
}

lab_up() {
  newns ul
  ip -n "${T}ul" link add br0 type bridge
  ip -n "${T}ul" link set br0 up
  for ns in ctl p1 p2 rt; do newns "$ns"; done
  plug ctl 10.77.0.1/24
  plug p1 10.77.0.11/24
  plug p2 10.77.0.12/24
  plug rt 10.77.0.2/24
  newns p3
  ip -n "${T}rt" link add in0 type veth peer name eth0 netns "${T}p3"
  ip -n "${T}rt" addr add 192.168.77.1/24 dev in0
  ip -n "${T}rt" link set in0 up
  ip -n "${T}p3" addr add 192.168.77.10/24 dev eth0
  ip -n "${T}p3" link set eth0 up
  ip -n "${T}p3" route add default via 192.168.77.1
  in_ns rt sysctl -qw net.ipv4.ip_forward=1
  in_ns rt nft add table ip nat
  in_ns rt nft add chain ip nat post '{ type nat hook postrouting priority 100 ; }'
  in_ns rt nft add rule ip nat post oifname eth0 masquerade ${LAB_NAT_FLAGS:-}
  say "namespaces up: ctl p1 p2 on 10.77.0.0/24, p3 behind a NAT"

  mkdir -p "$WORK/ctl"
  in_ns ctl "$BIN/corrald" --state-dir "$WORK/ctl/state" --listen 10.77.0.1:0 \
    --address-file "$WORK/ctl/addr" --admin-token-file "$WORK/ctl/admin.token" \
    --allow-simulated-gpus --socket none >"$WORK/corrald.log" 2>&1 &
  for _ in $(seq 200); do [ -s "$WORK/ctl/addr" ] && break; sleep 0.05; done
  ADDR=$(head -n1 "$WORK/ctl/addr" 2>/dev/null || true)
  [ -n "$ADDR" ] || { say "corrald did not start"; exit 1; }
  export CORRAL_CONTROLLER=$ADDR
  export CORRAL_CA=$WORK/ctl/state/pki/ca.pem
  CORRAL_TOKEN=$(cat "$WORK/ctl/admin.token")
  export CORRAL_TOKEN
  say "corrald at $ADDR"

  local join n up=0
  join=$(corral admin token create --role join --uses 3 2>/dev/null)
  for n in p1 p2 p3; do
    mkdir -p "$WORK/$n"
    in_ns "$n" env -u CORRAL_TOKEN "$BIN/corral-node" attach --controller "$ADDR" \
      --join-token "$join" --name "$n" --spool-dir "$WORK/$n/spool" \
      --topology "pack:1 core:2 pu:1" >"$WORK/$n.log" 2>&1 &
  done
  for _ in $(seq 300); do
    up=$(corral nodes --json 2>/dev/null | grep -io '"state": *"idle"' | wc -l || true)
    [ "$up" -ge 3 ] && break
    sleep 0.1
  done
  [ "$up" -ge 3 ] || { say "only $up of 3 nodes came up"; corral nodes || true; exit 1; }
  say "3 nodes attached"
}
