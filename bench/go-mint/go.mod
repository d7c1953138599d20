module meshid.example/bench/go-mint

go 1.21
