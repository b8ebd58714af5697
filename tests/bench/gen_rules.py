#!/usr/bin/env python3
"""Writes a synthetic rules file for benchmarks: N components, R rules in all.

usage: gen_rules.py RULES [COMPONENTS] > big.netpol

Rules spread evenly over the components; peers, ports, protocols and
conditions vary deterministically (seeded), so runs are repeatable.
"""
import random
import sys


def main():
    rules = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    components = int(sys.argv[2]) if len(sys.argv) > 2 else max(1, rules // 50)
    rnd = random.Random(42)
    out = sys.stdout
    out.write('param instance: string = "bench";\n')
    out.write('param namespace: string = "bench";\n')
    out.write('param peers: peers = anywhere;\n')
    for f in range(20):
        out.write(f"flag f{f} = {'true' if f % 2 else 'false'};\n")
    out.write('instance { namespace $namespace; prefix $instance; '
              'labels { "app.kubernetes.io/instance": $instance } }\n')
    per = rules // components
    extra = rules % components
    for c in range(components):
        out.write(f"component c{c} {{\n")
        out.write(f'  labels {{ "app.kubernetes.io/name": "c{c}" }}\n')
        count = per + (1 if c < extra else 0)
        for i in range(count):
            direction = "ingress" if rnd.random() < 0.7 else "egress"
            prep = "from" if direction == "ingress" else "to"
            port = 1000 + i  # unique per component: no duplicate rules
            proto = rnd.choice(["", "", "", "udp "])
            kind = rnd.random()
            if kind < 0.6:
                peers = ", ".join(f"c{rnd.randrange(components)}" for _ in range(rnd.randint(1, 3)))
            elif kind < 0.7:
                peers = "anywhere"
            elif kind < 0.8:
                peers = "instance"
            elif kind < 0.85:
                # Address blocks with no pod behind them are what every
                # target can express (Cilium's CIDR rules never match pods).
                peers = "external"
            elif kind < 0.9:
                peers = f'pods {{ "team": "t{rnd.randrange(50)}" }} in any namespace'
            else:
                peers = "$peers"
            cond = ""
            if rnd.random() < 0.3:
                cond = f" when f{rnd.randrange(20)}"
                if rnd.random() < 0.3:
                    cond += f" and not f{rnd.randrange(20)}"
            out.write(f'  {direction} {proto}{port} {prep} {peers}{cond} {{ reason "rule {i}"; }}\n')
        out.write("}\n")


if __name__ == "__main__":
    main()
