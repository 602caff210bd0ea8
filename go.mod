module github.com/gatepass/gatepass

go 1.26.8
