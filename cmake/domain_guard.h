// Forced into every domain/ translation unit (cmake/Layers.cmake): the rules
// know nothing of gRPC, protobuf, libpqxx or hiredis. Including any of them
// in domain/ — directly or through another header — is a compile error here
// ("attempt to use poisoned"), not a review comment.
#pragma GCC poison grpc grpc_impl protobuf pqxx redisContext redisReply
