"""Pure agreement math for benchmarks and consensus (no Django imports)."""
