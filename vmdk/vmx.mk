# vmdk/ .vmx and .vmsd helpers (owner: dictionary work)
