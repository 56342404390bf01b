# samples/ - what make demo builds from
