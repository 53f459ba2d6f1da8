"""The mock BHXH gateway: a strict, durable, fault-injectable counterpart for every suite."""
