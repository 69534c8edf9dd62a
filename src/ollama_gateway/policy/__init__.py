"""Pure rules: which key may use which model, how overrides merge, what limits allow. No I/O."""
