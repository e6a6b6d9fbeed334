fn main() {
    std::process::exit(awaitify::cli::main());
}
