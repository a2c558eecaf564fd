#!/usr/bin/env python3
"""Writes an hwloc XML topology for a simulated node: CPUs/NUMA from an hwloc synthetic
string (via lstopo-no-graphics), plus NVIDIA GPUs as hwloc's CUDA backend would report them.

usage: make_gpu_topology.py --synthetic "pack:2 numa:1(memory=256GB) l3:1 core:16 pu:2" \
           --gpu h100@0 --gpu h100@0 --gpu h100@1 --gpu h100@1 > h100x4-2numa.xml

Each --gpu MODEL@NUMA adds one GPU hanging off NUMA node NUMA (logical index): a host Bridge,
a PCIDev (class 0302/0300, vendor 10de) and an OSDev cudaN (osdev_type 5, subtype CUDA) whose
<info> entries carry GPUModel and CUDAGlobalMemorySize (KiB). See README.md.
"""
import argparse
import subprocess
import sys
import xml.etree.ElementTree as ET

# model -> (PCI class, PCI device id, GPUModel string, CUDA global memory in bytes, SMs)
MODELS = {
    "h100": ("0302", "2330", "NVIDIA H100 80GB HBM3", 85520809984, 132),
    "a100": ("0302", "20b2", "NVIDIA A100-SXM4-80GB", 85198045184, 108),
    "l40s": ("0302", "26b9", "NVIDIA L40S", 47697362944, 142),
    "rtx4090": ("0300", "2684", "NVIDIA GeForce RTX 4090", 25393692672, 128),
}
# PCI buses of the GPUs, one host bridge each (as on many 8-GPU servers).
BUSES = [0x18, 0x2A, 0x3A, 0x5D, 0x9A, 0xAB, 0xBA, 0xDB, 0x1B, 0x2D, 0x3D, 0x5F, 0x9C, 0xAD, 0xBC, 0xDD]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--synthetic", required=True)
    ap.add_argument("--gpu", action="append", default=[], help="MODEL@NUMA, repeatable")
    args = ap.parse_args()
    if len(args.gpu) > len(BUSES):
        sys.exit(f"at most {len(BUSES)} GPUs")

    xml = subprocess.run(["lstopo-no-graphics", "--input", args.synthetic, "--of", "xml"],
                         check=True, capture_output=True, text=True).stdout
    # ElementTree drops the DOCTYPE; we write it back below.
    root = ET.fromstring(xml)
    parent_of = {c: p for p in root.iter() for c in p}
    machine = root.find("object")
    # Keep the output independent of who generated it.
    for info in list(machine.findall("info")):
        if info.get("name") == "ProcessName":
            machine.remove(info)

    numas = [o for o in root.iter("object") if o.get("type") == "NUMANode"]
    numas.sort(key=lambda o: int(o.get("os_index")))
    gp = max(int(o.get("gp_index", "0")) for o in root.iter("object")) + 1

    for i, spec in enumerate(args.gpu):
        model, _, numa = spec.partition("@")
        pci_class, dev_id, name, mem_bytes, sms = MODELS[model]
        numa_obj = numas[int(numa)]
        attach = parent_of[numa_obj]
        bus = BUSES[i]
        busid = f"0000:{bus:02x}:00.0"
        bridge = ET.Element("object", {
            "type": "Bridge", "gp_index": str(gp), "bridge_type": "0-1", "depth": "0",
            "bridge_pci": f"0000:[{bus:02x}-{bus:02x}]"})
        pcidev = ET.SubElement(bridge, "object", {
            "type": "PCIDev", "gp_index": str(gp + 1), "pci_busid": busid,
            "pci_type": f"{pci_class} [10de:{dev_id}] [10de:16c1] a1",
            "pci_link_speed": "31.507692"})
        ET.SubElement(pcidev, "info", {"name": "PCIVendor", "value": "NVIDIA Corporation"})
        osdev = ET.SubElement(pcidev, "object", {
            "type": "OSDev", "gp_index": str(gp + 2), "name": f"cuda{i}", "subtype": "CUDA",
            "osdev_type": "5"})
        for k, v in [("Backend", "CUDA"), ("GPUVendor", "NVIDIA Corporation"), ("GPUModel", name),
                     ("CUDAGlobalMemorySize", str(mem_bytes // 1024)),
                     ("CUDAL2CacheSize", "51200"), ("CUDAMultiProcessors", str(sms)),
                     ("CUDACoresPerMP", "128"), ("CUDASharedMemorySizePerMP", "48")]:
            ET.SubElement(osdev, "info", {"name": k, "value": v})
        gp += 3
        attach.append(bridge)  # after the CPU children; <info> stays first

    ET.indent(root, space="  ")
    out = ET.tostring(root, encoding="unicode")
    sys.stdout.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                     '<!DOCTYPE topology SYSTEM "hwloc2.dtd">\n' + out + "\n")


if __name__ == "__main__":
    main()
