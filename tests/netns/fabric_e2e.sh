#!/usr/bin/env bash
# End to end across network namespaces that this test makes and removes: a controller, two
# providers on an underlay bridge, and a third provider behind a NAT (masquerade: it can dial
# out, nothing can dial in). corrald runs in the controller's namespace and corral-node in
# each provider's, attached with a join token. Then:
#   - `corral attach` into the NAT'd node runs a command in a job and returns its output;
#   - `corral forward` reaches a server started inside the job on the NAT'd node;
#   - the NAT'd node is unreachable from the underlay (so the two went over its own link);
#   - corrald runs the Nebula mesh (lighthouse and relay); each node gets an overlay address at
#     attach, and a 3-node MPI allreduce completes across all three, the NAT'd node included;
#   - a node's nebula, killed, is restarted, and the mesh carries MPI again;
#   - a job's ports on the mesh are open to the job's own nodes, and closed to the others.
# Teardown removes every namespace and process it made, even on failure. Exit 77 (a skip, with
# the reason) where namespaces cannot be made.
#   tests/netns/fabric_e2e.sh BIN_DIR ECHO_SERVER
set -euo pipefail

BIN=${1:?usage: fabric_e2e.sh BIN_DIR ECHO_SERVER}
ECHO=${2:?usage: fabric_e2e.sh BIN_DIR ECHO_SERVER}
T=cf$$  # a prefix unique to this run: names stay under 15 characters
LAB_NAME=fabric_e2e
LAB_NAT_FLAGS="random,fully-random"  # no hole punching: the relay carries p3's mesh traffic
. "$(dirname "$0")/lab.sh"
lab_check
WORK=$(mktemp -d /tmp/corral-e2e.XXXXXX)
chmod 755 "$WORK"
cleanup() {
  local rc=$?
  set +e
  if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
    for f in "$WORK"/*.log; do
      [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }
    done
  fi
  lab_down
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM
lab_up

# Nothing on the underlay reaches the NAT'd node: what follows went over its own link.
if in_ns p1 timeout 2 bash -c 'exec 3<>/dev/tcp/192.168.77.10/22' 2>/dev/null; then
  say "p1 reached 192.168.77.10: the NAT leaks"
  exit 1
fi

JOB=$(corral submit --parsable -N 3 -n 3 --wrap 'sleep 600')
wait_running "$JOB"
say "job $JOB runs on p1 p2 p3"

out=$(corral attach "$JOB" --node p3 --no-pty -- sh -c 'echo "inside $CORRAL_JOB_ID on $(hostname -I)"')
case $out in
  *"inside $JOB on 192.168.77.10"*) say "attach into the NAT'd node: $out" ;;
  *) say "attach printed: $out"; exit 1 ;;
esac

# MPI's transport over the mesh: UCX where corral-node found it can use the tun device.
mpi=$(corral attach "$JOB" --node p3 --no-pty -- sh -c 'echo "$CORRAL_MPI_TRANSPORT $OMPI_MCA_pml $UCX_NET_DEVICES"')
case $mpi in
  "ucx ucx crl"*) say "MPI over the mesh on p3: $mpi" ;;
  *) say "MPI transport on p3: '$mpi' (expected ucx on its tun device)"; grep -h 'mesh:' "$WORK/p3.log"; exit 1 ;;
esac

# A server inside the job on p3, reached from the controller's side with corral forward.
corral attach "$JOB" --node p3 --no-pty -- \
  sh -c "setsid $ECHO $WORK/p3/echo.port </dev/null >/dev/null 2>&1 &"
for _ in $(seq 100); do [ -s "$WORK/p3/echo.port" ] && break; sleep 0.05; done
REMOTE=$(head -n1 "$WORK/p3/echo.port")
corral forward "$JOB" --node p3 "0:$REMOTE" >"$WORK/forward.log" 2>&1 &
LOCAL=
for _ in $(seq 100); do
  LOCAL=$(sed -n 's/^forwarding 127.0.0.1:\([0-9]*\) .*/\1/p' "$WORK/forward.log")
  [ -n "$LOCAL" ] && break
  sleep 0.05
done
[ -n "$LOCAL" ] || { say "corral forward did not start"; exit 1; }
got=$(in_ns ctl timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$LOCAL; printf through-the-nat >&3; head -c 15 <&3")
[ "$got" = "through-the-nat" ] || { say "forward echoed '$got'"; exit 1; }
say "forward to port $REMOTE of the job on p3: echoed '$got'"

corral cancel "$JOB"

# The mesh: every node has an overlay address, and an MPI job's ranks on all three nodes,
# the NAT'd one included, complete an allreduce over it.
ips=$(corral nodes --json | grep -o '"overlay_ip": *"100\.[0-9.]*"' | wc -l)
[ "$ips" -eq 3 ] || { say "$ips of 3 nodes have an overlay address"; corral nodes --json; exit 1; }
MPI=$(corral submit --parsable -N 3 -n 3 -t 5 -o "$WORK/mpi.out" \
  --wrap "mpirun --map-by node $BIN/mpi_hello")
corral wait --timeout 180 "$MPI" >/dev/null || {
  say "MPI job $MPI did not complete"
  cat "$WORK/mpi.out" 2>/dev/null
  exit 1
}
ok=$(grep -c 'allreduce ok' "$WORK/mpi.out" || true)
grep -q 'node p3' "$WORK/mpi.out" || { say "no rank ran on p3"; cat "$WORK/mpi.out"; exit 1; }
[ "$ok" -eq 3 ] || { say "$ok of 3 ranks completed the allreduce"; cat "$WORK/mpi.out"; exit 1; }
say "MPI allreduce over the mesh on p1 p2 p3: $ok ranks ok"

# corral-node keeps nebula running: killed, it is back within seconds, and the mesh works again.
PIDF=$WORK/p3/spool/state/identity/mesh.pid
old=$(cat "$PIDF")
kill -9 "$old"
new=
for _ in $(seq 100); do
  new=$(cat "$PIDF" 2>/dev/null || true)
  [ -n "$new" ] && [ "$new" != "$old" ] && kill -0 "$new" 2>/dev/null && break
  sleep 0.1
done
[ -n "$new" ] && [ "$new" != "$old" ] || { say "p3's nebula was not restarted"; exit 1; }
MPI2=$(corral submit --parsable -N 3 -n 3 -t 5 -o "$WORK/mpi2.out" \
  --wrap "mpirun --map-by node $BIN/mpi_hello")
corral wait --timeout 180 "$MPI2" >/dev/null || { say "MPI after nebula's restart failed"; cat "$WORK/mpi2.out"; exit 1; }
[ "$(grep -c 'allreduce ok' "$WORK/mpi2.out")" -eq 3 ] || { cat "$WORK/mpi2.out"; exit 1; }
say "p3's nebula killed (pid $old), restarted (pid $new); MPI over the mesh again: ok"

# The mesh's firewall: a job's ports are open to its own nodes only. A 2-node job's server,
# listening on every address of its node, is reached over the mesh from the job's other node,
# not from the third node.
FW=$(corral submit --parsable -N 2 -n 2 --wrap 'sleep 600')
for _ in $(seq 300); do
  nodes=$(corral queue --json -j "$FW" 2>/dev/null | grep -o '"node": *"p[0-9]"' | grep -o 'p[0-9]' | sort -u | tr '\n' ' ' || true)
  [ "$(echo $nodes | wc -w)" -eq 2 ] && break
  sleep 0.1
done
set -- $nodes
[ $# -eq 2 ] || { say "job $FW did not get two nodes: $nodes"; exit 1; }
A=$1 B=$2 OUT=
for n in p1 p2 p3; do [ "$n" != "$A" ] && [ "$n" != "$B" ] && OUT=$n; done
IP_A=$(overlay_of "$A")
corral attach "$FW" --node "$A" --no-pty -- \
  sh -c "setsid $ECHO $WORK/fw.port 0.0.0.0 </dev/null >/dev/null 2>&1 &"
for _ in $(seq 100); do [ -s "$WORK/fw.port" ] && break; sleep 0.05; done
FWPORT=$(head -n1 "$WORK/fw.port")
probe() {  # NAMESPACE: echoes through IP_A:FWPORT over the mesh
  in_ns "$1" timeout 5 bash -c "exec 3<>/dev/tcp/$IP_A/$FWPORT; printf mesh >&3; head -c 4 <&3" 2>/dev/null
}
got=
for _ in $(seq 50); do  # the firewall reloads as the job starts
  got=$(probe "$B" || true)
  [ "$got" = "mesh" ] && break
  sleep 0.2
done
[ "$got" = "mesh" ] || { say "$B, in job $FW, could not reach $IP_A:$FWPORT over the mesh"; exit 1; }
if [ "$(probe "$OUT" || true)" = "mesh" ]; then
  say "$OUT, outside job $FW, reached its port $IP_A:$FWPORT: the firewall is open"
  exit 1
fi
say "mesh firewall: $B (in job $FW) reaches $A's port, $OUT (outside it) does not"
corral cancel "$FW"
say "PASS"
