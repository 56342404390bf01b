# cli/ - the vmdkit program (owner: cli work)
