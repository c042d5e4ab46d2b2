package proto

//go:generate go run ../jute/jutegen -in records.jute -out records_gen.go -pkg proto
