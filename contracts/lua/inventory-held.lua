return add_hold(ARGV[1], ARGV[2], ARGV[3], ARGV[4])
